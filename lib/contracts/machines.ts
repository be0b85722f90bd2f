import { z } from 'zod';
import { idSchema, nameSchema, timestampSchema } from './common';

export const machineStates = ['creating', 'stopped', 'starting', 'running', 'paused', 'stopping', 'failed'] as const;
export const machineStateSchema = z.enum(machineStates);
export type MachineState = z.infer<typeof machineStateSchema>;

export const driverKinds = ['qemu', 'nspawn', 'podman'] as const;
export const driverKindSchema = z.enum(driverKinds);
export type DriverKind = z.infer<typeof driverKindSchema>;

export const portForwardSchema = z.object({
  host: z.number().int().min(1024).max(65535),
  guest: z.number().int().min(1).max(65535),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
});
export type PortForward = z.infer<typeof portForwardSchema>;

export const machineSchema = z.object({
  id: idSchema,
  name: nameSchema,
  driver: driverKindSchema,
  image: z.string(),
  state: machineStateSchema,
  stateReason: z.string().nullable(),
  cpus: z.number().int(),
  memoryMib: z.number().int(),
  diskGib: z.number().int(),
  ports: z.array(portForwardSchema),
  ownerId: idSchema.nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type Machine = z.infer<typeof machineSchema>;
