'use client';

import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { queries } from '@/lib/queries';
import { hasRole, type Role } from '@/lib/roles';
import { api } from '@/components/ui/api';

/** Children only for callers with at least `role` (a member's Settings has their account, not the server's). */
export function RoleGate({ role, children }: { role: Role; children: ReactNode }) {
  const me = useQuery(queries(api).me()).data;
  return me && hasRole(me.role, role) ? <>{children}</> : null;
}
