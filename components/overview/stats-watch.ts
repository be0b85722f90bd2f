'use client';

import { useEffect } from 'react';
import type { Socket } from 'socket.io-client';

let socket: Socket | null = null;
let watched: string | null = null;

/** The /events socket (made by EventsBridge): the watched machine is told again after each reconnect. */
export function bindStatsSocket(s: Socket): () => void {
  socket = s;
  const again = () => {
    if (watched) s.emit('stats:watch', { machineId: watched });
  };
  s.on('connect', again);
  return () => {
    s.off('connect', again);
    if (socket === s) socket = null;
  };
}

/**
 * While a machine's page is open, the server also samples what only its guest knows (a VM's
 * network and memory in use, through its agent): tell it which machine, and when we leave.
 */
export function useWatchMachineStats(machineId: string | null): void {
  useEffect(() => {
    if (!machineId) return;
    watched = machineId;
    socket?.emit('stats:watch', { machineId });
    return () => {
      if (watched === machineId) watched = null;
      socket?.emit('stats:watch', { machineId: null });
    };
  }, [machineId]);
}
