import type { ConsoleSource } from '../types';

/** A console with no process behind it: what is typed is kept, output and exit are played by the test. */
export class FakeConsole implements ConsoleSource {
  readonly written: string[] = [];
  size: { cols: number; rows: number } | null = null;
  paused = false;
  closed = false;
  private dataFn: (d: string) => void = () => undefined;
  private exitFn: (code: number | null) => void = () => undefined;

  write(data: string): void {
    this.written.push(data);
  }
  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  onData(fn: (data: string) => void): void {
    this.dataFn = fn;
  }
  onExit(fn: (code: number | null) => void): void {
    this.exitFn = fn;
  }
  close(): void {
    this.closed = true;
  }
  /** The guest prints. */
  emit(data: string): void {
    this.dataFn(data);
  }
  /** The process behind it ends. */
  exit(code: number | null): void {
    this.exitFn(code);
  }
}
