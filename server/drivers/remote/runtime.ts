import { z } from 'zod';
import { runtimeParser } from '../shared/runtime';

/** An adopted machine's record: where it is reached and what it said about itself when adopted. */
export const remoteRuntimeSchema = z.object({
  host: z.string().optional(),
  port: z.number().int().optional(),
  user: z.string().optional(),
  /** PRETTY_NAME of its os-release and its kernel, as `uname -sr` said at adopt. */
  os: z.string().optional(),
  kernel: z.string().optional(),
  cpus: z.number().int().optional(),
  memoryMib: z.number().int().optional(),
});
export type RemoteRuntime = z.infer<typeof remoteRuntimeSchema>;

export const remoteRuntime = runtimeParser('ssh', remoteRuntimeSchema);
