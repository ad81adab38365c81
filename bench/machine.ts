import { execFileSync } from "node:child_process";
import { cpus, freemem, loadavg, platform, release, totalmem } from "node:os";

export interface MachineInfo {
  readonly timestamp: string;
  readonly cores: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  /** 1, 5 and 15 minute load averages when the bench started: other work on the machine skews every figure. */
  readonly loadAverage: readonly number[];
  /** The tree measured: HEAD and how many paths differ from it (uncommitted work is measured too). */
  readonly git: { readonly head: string; readonly changedPaths: number } | undefined;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    timestamp: new Date().toISOString(),
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${release()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    loadAverage: loadAverageNow(),
    git: gitState(),
  };
}

export function loadAverageNow(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

function gitState(): MachineInfo["git"] {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const status = execFileSync("git", ["status", "--porcelain"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return { head, changedPaths: status.split("\n").filter((line) => line.trim() !== "").length };
  } catch {
    return undefined;
  }
}

export function describeMachine(m: MachineInfo): string {
  return [
    `machine:   ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM (${m.freeMemoryGiB} free), ${m.platform}`,
    `runtime:   node ${m.node} (V8 ${m.v8})`,
    `load:      ${m.loadAverage.join(" / ")} (1 / 5 / 15 min) on ${m.cores} cores${m.loadAverage[0]! > m.cores / 2 ? "  WARNING: the machine is busy; figures will be low and noisy" : ""}`,
    `tree:      ${m.git === undefined ? "not a git checkout" : `HEAD ${m.git.head}${m.git.changedPaths > 0 ? ` + ${m.git.changedPaths} uncommitted paths` : ""}`}`,
    `timestamp: ${m.timestamp}`,
  ].join("\n");
}
