import { execFile } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** The calling thread's id: on Linux a thread is a task of its own, which setpriority and chrt address. */
function thisThreadId(): number {
  const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  if (!Number.isInteger(tid) || tid <= 0) throw new Error("/proc/thread-self names no thread id");
  return tid;
}

/**
 * Gives the calling thread the nice value `nice` (0 = the process's priority, 19 = the lowest): setpriority on
 * its id changes that thread only. Returns why it could not (another platform, a value the process may not
 * set), else undefined.
 */
export function setThisThreadNice(nice: number): string | undefined {
  if (nice === 0) return undefined;
  try {
    setPriority(thisThreadId(), nice);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The calling thread's id, or why there is none (another platform). */
export function thisThreadIdOrReason(): number | string {
  try {
    return thisThreadId();
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Puts the calling thread under SCHED_IDLE. Node has no binding for sched_setscheduler, so util-linux's chrt sets
 * it (any user may lower a thread to SCHED_IDLE). Resolves to why it could not (no chrt, another platform), else
 * undefined.
 */
export function setThisThreadIdlePolicy(): Promise<string | undefined> {
  const tid = thisThreadIdOrReason();
  return typeof tid === "string" ? Promise.resolve(tid) : setThreadPolicy(tid, "idle");
}

/**
 * Puts thread `tid` of this process under SCHED_IDLE ("idle") or back under the normal policy ("other"), keeping
 * its nice value. Leaving SCHED_IDLE needs CAP_SYS_NICE or a RLIMIT_NICE that allows the thread's nice value
 * (mayLeaveIdlePolicy). Resolves to why it could not, else undefined.
 */
export function setThreadPolicy(tid: number, policy: "idle" | "other"): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("chrt", [`--${policy}`, "--pid", "0", String(tid)], { timeout: 5_000 }, (err, _stdout, stderr) => {
      resolve(err === null ? undefined : `chrt: ${stderr.trim() || err.message}`);
    });
  });
}

/** CAP_SYS_NICE's bit in a capability set. */
const CAP_SYS_NICE = 23n;

/**
 * Whether a thread of this process at nice value `nice` could leave SCHED_IDLE again once put under it: Linux lets
 * it with CAP_SYS_NICE, or when RLIMIT_NICE allows that nice value (20 − nice ≤ the limit; most systems set 0,
 * which allows none). Reads /proc/self/status and /proc/self/limits; returns why not, else undefined.
 */
export function mayLeaveIdlePolicy(nice: number): string | undefined {
  let status: string;
  let limits: string;
  try {
    status = readFileSync("/proc/self/status", "utf8");
    limits = readFileSync("/proc/self/limits", "utf8");
  } catch (err) {
    return `cannot read this process's capabilities: ${(err as Error).message}`;
  }
  return leaveIdlePermission(status, limits, nice);
}

/** mayLeaveIdlePolicy over the texts of /proc/self/status and /proc/self/limits. */
export function leaveIdlePermission(status: string, limits: string, nice: number): string | undefined {
  const capabilities = /^CapEff:\s*([0-9a-f]+)$/im.exec(status)?.[1];
  if (capabilities !== undefined && ((BigInt(`0x${capabilities}`) >> CAP_SYS_NICE) & 1n) === 1n) return undefined;
  const limit = /^Max nice priority\s+(\d+|unlimited)/im.exec(limits)?.[1];
  if (limit === "unlimited" || (limit !== undefined && 20 - nice <= Number(limit))) return undefined;
  return `the process has no CAP_SYS_NICE and its RLIMIT_NICE (${limit ?? "unknown"}) does not allow nice ${nice}, so a thread under SCHED_IDLE could not be raised again`;
}
