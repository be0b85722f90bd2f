/** Something a console session reads from and types into: a pty, a serial socket, an SSH channel. */
export interface ConsoleSource {
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Stop reading output until resume(): the backpressure path. */
  pause(): void;
  resume(): void;
  onData(fn: (data: string) => void): void;
  onExit(fn: (code: number | null) => void): void;
  close(): void;
}
