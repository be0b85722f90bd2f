import type { Job } from '@/lib/contracts/jobs';

export interface JobNode {
  job: Job;
  children: JobNode[];
}

/**
 * Jobs as a forest: a job started by another job (a build's create, checkpoints and forks) goes
 * under it, oldest first, in the order it ran; a job whose parent is not in the list (on an older
 * page not loaded yet) stands at the top. The list's own order (newest first) is kept for the top.
 */
export function jobTree(jobs: Job[]): JobNode[] {
  const nodes = new Map(jobs.map((j) => [j.id, { job: j, children: [] as JobNode[] }]));
  const top: JobNode[] = [];
  for (const j of jobs) {
    const parent = j.parentId ? nodes.get(j.parentId) : undefined;
    if (parent && parent.job.id !== j.id) parent.children.push(nodes.get(j.id)!);
    else top.push(nodes.get(j.id)!);
  }
  for (const n of nodes.values()) n.children.sort((a, b) => a.job.createdAt - b.job.createdAt);
  return top;
}
