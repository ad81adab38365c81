import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Gives the calling thread the nice value `nice` (0 = the process's priority, 19 = the lowest). On Linux a thread
 * is a task of its own: setpriority on its id changes that thread only. Returns why it could not (another
 * platform, a value the process may not set), else undefined.
 */
export function setThisThreadNice(nice: number): string | undefined {
  if (nice === 0) return undefined;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return "/proc/thread-self names no thread id";
    setPriority(tid, nice);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
