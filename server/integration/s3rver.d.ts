// s3rver ships no types: what the test tier's S3 server (s3-server.ts) uses of it.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  export default class S3rver {
    constructor(opts: { port: number; address: string; silent: boolean; directory: string; configureBuckets: { name: string }[] });
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    on(event: 'event', fn: (e: { Records?: { eventName?: string }[] }) => void): this;
  }
}
