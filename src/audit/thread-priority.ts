import { execFile } from "node:child_process";
import { readlinkSync } from "node:fs";
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

/**
 * Puts the calling thread under SCHED_IDLE. Node has no binding for sched_setscheduler, so util-linux's chrt sets
 * it (any user may lower a thread to SCHED_IDLE). Resolves to why it could not (no chrt, another platform), else
 * undefined.
 */
export function setThisThreadIdlePolicy(): Promise<string | undefined> {
  let tid: number;
  try {
    tid = thisThreadId();
  } catch (err) {
    return Promise.resolve((err as Error).message);
  }
  return new Promise((resolve) => {
    execFile("chrt", ["--idle", "--pid", "0", String(tid)], { timeout: 5_000 }, (err, _stdout, stderr) => {
      resolve(err === null ? undefined : `chrt: ${stderr.trim() || err.message}`);
    });
  });
}
