'use client';

import { useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useEffect } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { Image } from '@/lib/contracts/images';
import { isFinished, type Job, type JobLogLine } from '@/lib/contracts/jobs';
import type { Me } from '@/lib/contracts/auth';
import { jobToast } from '@/lib/job-toast';
import type { MachineStatsTick } from '@/lib/contracts/stats';
import type { EventsClientToServer, EventsServerToClient } from '@/lib/events';
import { keys } from '@/lib/queries';
import { useToast } from '@/components/shell/toasts';
import { liveStats } from '@/components/overview/live-stats';
import { bindStatsSocket } from '@/components/overview/stats-watch';
import { FrameBatch } from '@/components/ui/next-frame';
import { machineEventBatch } from '@/components/shell/machine-events';
import { refetchChanged } from '@/components/shell/fresh-queries';

/** Turns `/events` messages into query cache updates and toasts, so every page is live without polling. */
export function EventsBridge() {
  const qc = useQueryClient();
  const toast = useToast();

  useEffect(() => {
    const socket: Socket<EventsServerToClient, EventsClientToServer> = io('/events', { transports: ['websocket'] });
    // The states this page has seen, so a job's end is told once, whichever page is open (the jobs list may never have loaded).
    const seen = new Map<string, Job['state']>();
    socket.on('job:update', (job) => {
      const before = seen.get(job.id) ?? qc.getQueryData<Job[]>(keys.jobs())?.find((j) => j.id === job.id)?.state;
      seen.set(job.id, job.state);
      qc.setQueryData<Job[]>(keys.jobs(), (list) => (list ? upsert(list, job, true) : list));
      qc.setQueryData<InfiniteData<{ items: Job[]; next: string | null }>>(keys.jobPages(), (d) => (d ? upsertPaged(d, job) : d));
      qc.setQueryData(keys.job(job.id), job);
      // Your own jobs (an admin receives everyone's): the end of one you watched start, or a scheduled run or backup that failed.
      const told = jobToast(job, before, qc.getQueryData<Me>(keys.me())?.user.id);
      if (told) toast(told.kind, told.text);
      // A finished job changes no more: forget it (an admin's page sees every job go by).
      // What the job made (an image, an ISO) is read again: a list fetched while it ran may have landed after its events.
      if (isFinished(job.state)) {
        seen.delete(job.id);
        void refetchChanged(qc, keys.images());
      }
    });
    socket.on('job:log', ({ jobId, lines }) => {
      qc.setQueryData<JobLogLine[]>(keys.jobLogs(jobId), (old) => (old ? mergeLines(old, lines) : old));
    });
    // Machine changes and figures come in bursts (every machine every second or two): applied once per frame.
    const machineChanges = machineEventBatch(qc);
    const statsTicks = new FrameBatch<MachineStatsTick>((ticks) => ticks.forEach((t) => liveStats.push(t)));
    socket.on('machine:update', (m) => machineChanges.push({ id: m.id, machine: m }));
    socket.on('stats:machines', (tick) => statsTicks.push(tick));
    socket.on('stats:host', (tick) => liveStats.pushHost(tick));
    const unbind = bindStatsSocket(socket as unknown as Socket);
    socket.on('machine:removed', ({ id }) => {
      liveStats.forget(id);
      machineChanges.push({ id, machine: null });
    });
    socket.on('image:update', (img) => qc.setQueryData<Image[]>(keys.images(), (list) => (list ? upsert(list, img, false) : list)));
    socket.on('image:removed', ({ id }) => qc.setQueryData<Image[]>(keys.images(), (list) => list?.filter((i) => i.id !== id)));
    socket.on('snapshots:changed', () => void refetchChanged(qc, keys.snapshots()));
    socket.on('node:update', () => void refetchChanged(qc, keys.nodes()));
    socket.on('steps:changed', () => void refetchChanged(qc, keys.steps()));
    // Connected again (by the manager after a drop, or by us after the server dropped us): we may have missed updates, so
    // refetch what is on screen. The manager's `reconnect` alone would miss the second kind.
    let connectedBefore = false;
    socket.on('connect', () => {
      if (connectedBefore) void refetchChanged(qc, []);
      connectedBefore = true;
    });
    // Dropped by the server (the session ended or the role changed): connect again once, as
    // whoever we are now; if the session is gone, the API's 401s take the page to the login.
    socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000);
    });
    return () => {
      machineChanges.dispose();
      statsTicks.dispose();
      unbind();
      socket.disconnect();
    };
  }, [qc, toast]);

  return null;
}

function upsert<T extends { id: string }>(list: T[], item: T, prepend: boolean): T[] {
  const i = list.findIndex((x) => x.id === item.id);
  if (i === -1) return prepend ? [item, ...list] : [...list, item];
  const copy = list.slice();
  copy[i] = item;
  return copy;
}

/** A job into the jobs page's pages: replaced where it is, or (a new one) put first on the first page. */
function upsertPaged<P extends { items: Job[] }>(d: InfiniteData<P>, job: Job): InfiniteData<P> {
  const at = d.pages.findIndex((p) => p.items.some((j) => j.id === job.id));
  const pages = d.pages.map((p, i) => (i === (at === -1 ? 0 : at) ? { ...p, items: upsert(p.items, job, true) } : p));
  return { ...d, pages };
}

function mergeLines(old: JobLogLine[], lines: JobLogLine[]): JobLogLine[] {
  const last = old.length ? old[old.length - 1].seq : -1;
  return [...old, ...lines.filter((l) => l.seq > last)];
}
