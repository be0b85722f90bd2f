/**
 * Replies a terminal sends on its own when the output asks (cursor position, device
 * attributes, status, colours). Replayed output asks again: busybox ash asks for the cursor
 * position at every prompt, and the replies to old questions would reach the guest's shell as
 * typed text (`[27;15R`). Such replies are dropped while a replay is parsed.
 */
// eslint-disable-next-line no-control-regex -- matching escape sequences is the point
const REPORT = /^(?:\x1b\[\??\d+(?:;\d+)*R|\x1b\[[?>][\d;]*c|\x1b\[\d*n|\x1b\][0-9]+;[^\x07\x1b]*(?:\x07|\x1b\\))+$/;

export const isTerminalReport = (data: string): boolean => REPORT.test(data);
