// Runs h2load (nghttp2-client) as a separate process and parses its summary.
import { execFile, spawn } from "node:child_process";

export interface H2loadRun {
  /** -c: HTTP/2 connections. */
  readonly clients: number;
  /** -m: concurrent streams per connection. */
  readonly streams: number;
  /** -D seconds of measurement. */
  readonly durationS: number;
  readonly url: string;
  /** File posted as the body of every request (-d). */
  readonly dataFile: string;
  readonly headers: readonly string[];
}

export interface H2loadLatency {
  /** Nanoseconds. */
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly sd: number;
}

export interface H2loadResult {
  readonly args: readonly string[];
  /** Seconds h2load measured over (the main duration). */
  readonly seconds: number;
  readonly reqPerSec: number;
  readonly requests: { total: number; started: number; done: number; succeeded: number; failed: number; errored: number; timeout: number };
  readonly statusCodes: { "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  /** Response bytes: DATA frame payloads and (decoded) header bytes. */
  readonly traffic: { total: number; headers: number; data: number };
  /** "time for request" (per request, from h2load's point of view). */
  readonly latency: H2loadLatency | undefined;
  readonly raw: string;
}

let children = new Set<import("node:child_process").ChildProcess>();

/** Whether h2load is on PATH, and its version line. */
export function h2loadVersion(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("h2load", ["--version"], (error, stdout) => resolve(error ? undefined : stdout.trim()));
  });
}

export function h2loadArgs(run: H2loadRun): string[] {
  return [
    "-c",
    String(run.clients),
    "-m",
    String(run.streams),
    "-t",
    "1",
    "-D",
    String(run.durationS),
    ...run.headers.flatMap((h) => ["-H", h]),
    "-d",
    run.dataFile,
    run.url,
  ];
}

/** A fixed number of requests (-n), no warm-up: every response is counted. */
export interface H2loadCountRun {
  readonly clients: number;
  readonly streams: number;
  readonly requests: number;
  readonly url: string;
  readonly dataFile: string;
  readonly headers: readonly string[];
}

export function runH2loadCount(run: H2loadCountRun): Promise<H2loadResult> {
  return spawnH2load([
    "-c",
    String(run.clients),
    "-m",
    String(run.streams),
    "-t",
    "1",
    "-n",
    String(run.requests),
    ...run.headers.flatMap((h) => ["-H", h]),
    "-d",
    run.dataFile,
    run.url,
  ]);
}

export function runH2load(run: H2loadRun): Promise<H2loadResult> {
  return spawnH2load(h2loadArgs(run));
}

function spawnH2load(args: string[]): Promise<H2loadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("h2load", args, { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", (error) => {
      children.delete(child);
      reject(error);
    });
    child.on("close", (code) => {
      children.delete(child);
      if (code !== 0) {
        reject(new Error(`h2load ${args.join(" ")} exited with ${code}:\n${out}`));
        return;
      }
      try {
        resolve({ ...parseH2loadOutput(out), args });
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** Kills any h2load still running (on SIGINT). */
export function killH2load(): void {
  for (const child of children) child.kill("SIGTERM");
  children = new Set();
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

/** "123us", "4.56ms", "1.2s" → nanoseconds. */
export function parseDuration(text: string): number {
  const match = /^([\d.]+)(ns|us|µs|ms|s)$/.exec(text.trim());
  if (!match) throw new Error(`cannot read h2load duration "${text}"`);
  return Number(match[1]) * DURATION_UNITS[match[2]!]!;
}

/** Parses the summary h2load prints (nghttp2 1.4x–1.6x layout). */
export function parseH2loadOutput(out: string): Omit<H2loadResult, "args"> {
  const finished = /finished in ([\d.]+(?:ns|us|µs|ms|s)), ([\d.]+) req\/s/.exec(out);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const traffic = /traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers.*?, .*?\((\d+)\) data/.exec(out);
  if (!finished || !requests || !codes || !traffic) throw new Error(`cannot parse h2load output:\n${out}`);
  const n = (m: RegExpExecArray, i: number) => Number(m[i]);
  const latencyLine = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
  return {
    seconds: parseDuration(finished[1]!) / 1e9,
    reqPerSec: Number(finished[2]),
    requests: {
      total: n(requests, 1),
      started: n(requests, 2),
      done: n(requests, 3),
      succeeded: n(requests, 4),
      failed: n(requests, 5),
      errored: n(requests, 6),
      timeout: n(requests, 7),
    },
    statusCodes: { "2xx": n(codes, 1), "3xx": n(codes, 2), "4xx": n(codes, 3), "5xx": n(codes, 4) },
    traffic: { total: n(traffic, 1), headers: n(traffic, 2), data: n(traffic, 3) },
    latency: latencyLine
      ? {
          min: parseDuration(latencyLine[1]!),
          max: parseDuration(latencyLine[2]!),
          mean: parseDuration(latencyLine[3]!),
          sd: parseDuration(latencyLine[4]!),
        }
      : undefined,
    raw: out,
  };
}
