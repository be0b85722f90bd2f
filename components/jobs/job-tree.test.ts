import { describe, expect, it } from 'vitest';
import type { Job } from '@/lib/contracts/jobs';
import { jobTree, type JobNode } from './job-tree';

const job = (id: string, createdAt: number, parentId: string | null = null): Job => ({
  id: `job_${id.padEnd(12, '0')}`,
  kind: 'demo',
  title: id,
  state: 'succeeded',
  progress: 100,
  message: '',
  error: null,
  result: null,
  ownerId: null,
  machineId: null,
  parentId: parentId ? `job_${parentId.padEnd(12, '0')}` : null,
  createdAt,
  startedAt: createdAt,
  finishedAt: createdAt,
});
const shape = (nodes: JobNode[]): unknown[] => nodes.map((n) => (n.children.length ? { [n.job.title]: shape(n.children) } : n.job.title));

describe('jobTree over pages (newest first)', () => {
  // A build (b) started before c, its children ka and kb after it: one page holds c, kb, ka; the next page b.
  const page1 = [job('c', 40), job('kb', 30, 'b'), job('ka', 20, 'b')];
  const page2 = [job('b', 10)];

  it('shows a child whose parent is on a page not loaded yet at the top, in list order', () => {
    expect(shape(jobTree(page1))).toEqual(['c', 'kb', 'ka']);
  });

  it('folds the children under their parent once its page is loaded, oldest child first', () => {
    expect(shape(jobTree([...page1, ...page2]))).toEqual(['c', { b: ['ka', 'kb'] }]);
  });
});
