import { readdir, readFile } from "node:fs/promises";

/** Linux's scheduling policy number for SCHED_IDLE (field 41 of a task's stat). */
export const SCHED_IDLE = 5;

/** A field of each thread of this process's /proc/self/task/<tid>/stat: 19 is the nice value, 41 the policy. */
export async function threadStatField(field: number): Promise<number[]> {
  const tids = await readdir("/proc/self/task");
  const stats = await Promise.all(tids.map((tid) => readFile(`/proc/self/task/${tid}/stat`, "utf8").catch(() => "")));
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis (field 3 first).
  return stats.filter((s) => s !== "").map((s) => Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[field - 3]));
}

export const threadNices = () => threadStatField(19);
export const threadPolicies = () => threadStatField(41);
