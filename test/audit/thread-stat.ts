import { readdir, readFile } from "node:fs/promises";

/** Linux's scheduling policy number for SCHED_IDLE (field 41 of a task's stat). */
export const SCHED_IDLE = 5;

/** A field of each thread of process `pid` (this one by default) from /proc/<pid>/task/<tid>/stat: 19 is the nice value, 41 the policy. */
export async function threadStatField(field: number, pid: number | "self" = "self"): Promise<number[]> {
  const tids = await readdir(`/proc/${pid}/task`);
  const stats = await Promise.all(tids.map((tid) => readFile(`/proc/${pid}/task/${tid}/stat`, "utf8").catch(() => "")));
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis (field 3 first).
  return stats.filter((s) => s !== "").map((s) => Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[field - 3]));
}

/** The nice value and the policy of each thread of process `pid`. */
export async function taskStats(pid: number): Promise<{ nice: number; policy: number }[]> {
  const [nices, policies] = [await threadStatField(19, pid), await threadStatField(41, pid)];
  return nices.map((nice, i) => ({ nice, policy: policies[i]! }));
}

export const threadNices = () => threadStatField(19);
export const threadPolicies = () => threadStatField(41);
