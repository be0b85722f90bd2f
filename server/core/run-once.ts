import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ExecStreamBody, Machine, RunOnceBody, RunOnceEvent } from '@/lib/contracts/machines';
import type { MachineRow } from '@/db/repo/machines';
import { SkopeoError } from '@/server/drivers/oci/skopeo';
import type { Principal } from './auth';
import { BadRequestError, ConflictError, HangarError, NotFoundError } from './errors';
import { pullsOci, type ImageService } from './images';
import type { MachineService } from './machines';
import { ociFailure } from './oci-errors';
import { StreamTimeoutError } from '@/server/drivers/exec-stream';

export interface PreparedRun {
  machine: Machine;
  /**
   * Runs the command, emitting its output and then its end; never throws (errors are events). `room`: resolves when the
   * caller's queue has room again (output is taken from the command no faster than the caller reads it).
   */
  run(emit: (e: RunOnceEvent) => void, signal: AbortSignal, room?: () => Promise<void>): Promise<void>;
}

/**
 * `docker run` for Hangar: a fresh application container (the image's root under an upper dir
 * of its own) running one command attached to the caller, output streamed, exit code passed
 * back; removed afterwards unless asked to stay (then it is a stopped machine like any other,
 * and `start` runs the command again). No job: a run is as long as its command, and a warm one
 * is about the cost of nspawn itself.
 */
export class RunOnceService {
  /** Runs waiting for or reading their caller's stdin, by the id their `start` event gave. */
  private readonly inputs = new Map<string, { userId: string; machineId: string; pipe: PassThrough; taken: boolean }>();

  constructor(
    private readonly machines: MachineService,
    private readonly images: ImageService,
  ) {}

  /** Everything that can be refused is checked here, before any output: a bad run is an HTTP error. */
  async prepare(p: Principal, body: RunOnceBody): Promise<PreparedRun> {
    const name = body.name ?? `run-${randomBytes(4).toString('hex')}`;
    const imageName = await this.imageOf(body);
    const d = this.machines.describe(body.driver);
    // A driver that pulls OCI images itself gets where from (its description says so).
    const files = await this.images.files(imageName, { pull: pullsOci(d) }).catch((err: unknown) => {
      // No image by that name here: said on the path `image`, so `hangar run NAME` knows to try NAME as a registry ref.
      throw err instanceof NotFoundError ? new HangarError('not_found', err.message, [{ path: body.image ? 'image' : 'ref', message: 'not here' }]) : err;
    });
    if (body.argv.length === 0 && !files.oci)
      throw new BadRequestError(`Image ${imageName} has no command of its own: give one (hangar run IMAGE -- CMD).`, [{ path: 'argv', message: 'a command' }]);
    const { machine, image, row } = await this.machines.admit(
      p,
      {
        name,
        image: imageName,
        driver: body.driver,
        network: body.network,
        command: body.argv.length ? body.argv : undefined,
        cpus: body.cpus,
        memoryMib: body.memoryMib,
        diskGib: Math.max(2, Math.ceil(files.diskBytes / 2 ** 30)),
        ports: [],
        tags: ['run'],
        start: true,
      },
      files,
    );
    const driver = this.machines.driver(machine.driver);
    if (!driver.runOnce) throw new ConflictError(`The ${machine.driver} driver cannot run a command once.`);
    this.machines.locks.lock(machine.id, 'running a command');
    let written: MachineRow | undefined;
    try {
      const spec = this.machines.toSpec(row);
      const made = await driver.create({ ...spec, runtime: { network: body.network, command: body.argv } }, image);
      written = await this.machines.patch(machine.id, { state: 'running', runtime: made.runtime });
      if (!written) throw new ConflictError(`${machine.name} was removed meanwhile.`);
    } catch (err) {
      await this.machines.remove(machine.id).catch(() => undefined);
      this.machines.locks.unlock(machine.id);
      // A driver's own pull refused by the registry: the same answer as Hangar's pull (404 unknown image, 400 login failed).
      throw err instanceof SkopeoError ? ociFailure(err) : err;
    }
    const ready = written;
    const input = body.stdin ? this.openInput(p.user.id, machine.id) : null;
    return { machine, run: (emit, signal) => this.run(machine, ready, body, emit, signal, input) };
  }

  /**
   * `hangar exec` streamed: argv in a running machine through its driver's execStream, stdout emitted as it comes, stderr
   * (its last 64 KiB, which is all execStream keeps) before the exit, and with `stdin` the caller's input taken as a run's
   * is (feed()). Refusals (no machine, not running, a driver that cannot stream) are thrown here, before any output.
   */
  async prepareExec(p: Principal, ref: string, body: ExecStreamBody): Promise<PreparedRun> {
    const row = await this.machines.execRow(ref);
    const driver = this.machines.driver(row.driver);
    const stream = driver.execStream?.bind(driver);
    if (!stream) throw new ConflictError(`${row.name}'s driver cannot stream a command's output: POST /machines/${row.name}/exec answers when it ends.`);
    const machine = this.machines.views.view(row);
    const spec = this.machines.toSpec(row);
    return {
      machine,
      run: async (emit, signal, room = () => Promise.resolve()) => {
        const t0 = performance.now();
        // Opened here, so nothing is left waiting when the caller is gone before the command starts; closed when it goes.
        const input = body.stdin ? this.openInput(p.user.id, row.id) : null;
        const dropInput = () => input?.pipe.destroy();
        signal.addEventListener('abort', dropInput, { once: true });
        try {
          emit({ t: 'start', machine: machine.name, ...(input ? { stdin: input.id } : {}) });
          // A character split between two chunks must not come out as two broken ones.
          const text = new StringDecoder('utf8');
          // Taken from the command no faster than the caller reads it (the response's queue has room).
          const stdout = new Writable({
            write(chunk: Buffer, _enc, done) {
              const d = text.write(chunk);
              if (d) emit({ t: 'stdout', d });
              room().then(() => done(), done);
            },
          });
          const r = await stream(spec, body.argv, { stdout, ...(input ? { stdin: input.pipe } : {}), signal, timeoutMs: body.timeoutS * 1000 }).catch(
            (err: unknown) => {
              if (!(err instanceof StreamTimeoutError)) throw err;
              return { code: 124, stderr: `hangar: The command did not end within ${body.timeoutS} s (its time limit).\n` };
            },
          );
          const rest = text.end();
          if (rest) emit({ t: 'stdout', d: rest });
          if (r.stderr) emit({ t: 'stderr', d: r.stderr });
          // No exit status: the connection to it ended first (the machine stopped, sshd went away).
          if (r.code < 0) throw new Error('The command ended without an exit status: its connection closed first (did the machine stop?).');
          emit({ t: 'exit', code: r.code, durationMs: Math.round(performance.now() - t0), removed: false });
        } catch (err) {
          emit({ t: 'error', message: signal.aborted ? 'The caller went away: the command was stopped.' : err instanceof Error ? err.message : String(err) });
        } finally {
          signal.removeEventListener('abort', dropInput);
          this.closeInput(input);
        }
      },
    };
  }

  /** The image to run: `image` by name, or the one `ref` names when it is pulled here (404 on the path `ref` when not: pull it). */
  private async imageOf(body: RunOnceBody): Promise<string> {
    if (body.image) return body.image;
    if (!body.ref) throw new BadRequestError('Give the image to run: image (a name) or ref.', [{ path: 'image', message: 'an image name or a ref' }]);
    const name = await this.images.oci.pulledName(body.ref);
    if (!name)
      throw new HangarError('not_found', `Image ${body.ref} is not pulled here yet (hangar pull ${body.ref}).`, [{ path: 'ref', message: 'not pulled yet' }]);
    return name;
  }

  private openInput(userId: string, machineId: string): { id: string; pipe: PassThrough } {
    const id = randomBytes(16).toString('hex');
    const pipe = new PassThrough();
    this.inputs.set(id, { userId, machineId, pipe, taken: false });
    return { id, pipe };
  }

  /** A run's input gone with its run: no longer found by its id, its pipe closed. */
  private closeInput(input: { id: string; pipe: PassThrough } | null): void {
    if (!input) return;
    this.inputs.delete(input.id);
    input.pipe.destroy();
  }

  /**
   * The caller's stdin for a run of machine `machineId` (once, by the user who started it):
   * streamed until the body ends, which is the command's EOF.
   */
  async feed(p: Principal, machineId: string, id: string, body: ReadableStream<Uint8Array> | null): Promise<void> {
    const input = this.inputs.get(id);
    if (!input || input.userId !== p.user.id || input.machineId !== machineId) throw new NotFoundError(`Run input ${id.slice(0, 8)}`);
    if (input.taken) throw new ConflictError('This run has its stdin already.');
    input.taken = true;
    if (!body) return void input.pipe.end();
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        if (input.pipe.destroyed) return;
        if (!input.pipe.write(chunk)) await new Promise((r) => input.pipe.once('drain', r).once('close', r));
      }
      input.pipe.end();
    } catch {
      // The caller's upload broke off: an error, not an EOF (the command must not take half a stream for a whole one).
      input.pipe.destroy(new Error('The input was cut off.'));
    }
  }

  private async run(
    machine: Machine,
    row: MachineRow,
    body: RunOnceBody,
    emit: (e: RunOnceEvent) => void,
    signal: AbortSignal,
    input: { id: string; pipe: PassThrough } | null,
  ): Promise<void> {
    const t0 = performance.now();
    let reason = 'The command did not run.';
    try {
      emit({ t: 'start', machine: machine.name, ...(input ? { stdin: input.id } : {}) });
      const spec = this.machines.toSpec(row);
      // A character split between two chunks must not come out as two broken ones.
      const text = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
      const r = await this.machines.driver(machine.driver).runOnce!(spec, {
        onData: (stream, chunk) => {
          const d = text[stream].write(chunk);
          if (d) emit({ t: stream, d });
        },
        ...(input ? { stdin: input.pipe } : {}),
        signal,
        timeoutMs: body.timeoutS * 1000,
      });
      reason = r.timedOut
        ? `The command was killed after ${body.timeoutS} s.`
        : signal.aborted
          ? 'The caller went away: the command was killed.'
          : `The command exited with code ${r.code}.`;
      if (r.timedOut) emit({ t: 'stderr', d: `hangar: ${reason}\n` });
      let removed = false;
      if (body.rm)
        removed = await this.machines.remove(machine.id).then(
          () => true,
          () => false,
        );
      emit({ t: 'exit', code: r.timedOut ? 124 : r.code, durationMs: Math.round(performance.now() - t0), removed });
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
      emit({ t: 'error', message: reason });
      if (body.rm) await this.machines.remove(machine.id).catch(() => undefined);
    } finally {
      this.closeInput(input);
      if (!body.rm) await this.machines.patch(machine.id, { state: 'stopped', stateReason: reason }).catch(() => undefined);
      this.machines.locks.unlock(machine.id);
    }
  }
}
