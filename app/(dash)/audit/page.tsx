import type { Metadata } from 'next';
import { AuditLog } from '@/components/audit/audit-log';
import { PageHeader } from '@/components/shell/page-header';

export const metadata: Metadata = { title: 'Audit log' };

export default function AuditPage() {
  return (
    <>
      <PageHeader title="Audit log" description="Every change and every console attach: who, what, when, from where, and through which token." />
      <AuditLog />
    </>
  );
}
