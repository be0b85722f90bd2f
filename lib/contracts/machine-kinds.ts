// Plain lists with no zod, so the CLI can check its flags without loading the contracts (machines.ts makes the schemas).

export const driverKinds = ['qemu', 'nspawn', 'podman', 'ssh'] as const;

export const containerNetworks = ['private', 'nat', 'host'] as const;
