/** Files of a container's console holder, in the machine's directory. */
export const holderFiles = (dir: string) => ({
  log: `${dir}/console.log`,
  consoleSock: `${dir}/console.sock`,
  controlSock: `${dir}/control.sock`,
  pid: `${dir}/holder.pid`,
  exit: `${dir}/exit.json`,
});
