/** `hangar help`: every command's usage. Each command's lines start with `  hangar NAME` (helpFor finds them by it). */
export const HELP = `hangar: disposable machines (QEMU VMs, nspawn and podman containers)

Usage:
  hangar up [--host H] [--port P] [--data DIR]   run the server (default 127.0.0.1:3000)
  hangar up ... [--tls-cert F --tls-key F | --tls | --insecure-http | --trusted-proxy ADDR]   HTTPS beyond loopback
                                                  (a self-signed certificate unless given; SIGHUP reloads it)
  hangar up ... --cluster-join URL --token T [--node-name N] [--internal-url U]   (in progress) join a cluster: the same
                                                  DATABASE_URL (PostgreSQL), a token from hangar nodes token
  hangar nodes [ls | token [--ttl 30m] | drain NAME | undrain NAME | rm NAME]   a cluster's nodes (admins)
  hangar login [--url URL] [--token T | -u USER [--password-stdin] | --browser] [--ca FILE | --fingerprint SHA256 | --accept-new]
                                                  https:// with a self-signed certificate: its fingerprint is pinned
  hangar logout
  hangar status                                   server, login and counts
  hangar images [ls | build KIND | rm NAME]       base images: busybox, debian-12, debian-13 (build shows progress)
  hangar images import FILE|URL --name N [--sha256 HEX] [--allow-setuid]   a root filesystem tarball (.tar, .tar.gz,
                                                  .tar.xz, .tar.zst) as image N, checked entry by entry first
  hangar pull REF                                 an OCI image from a registry (docker://HOST/NAME:TAG, NAME:TAG, @sha256:)
  hangar registry [ls | login HOST | logout HOST] registry settings: -u USER --password-stdin, --insecure, --ca FILE
  hangar ps [TEXT] [--state S] [--driver D] [--tag T]... [--limit N [--cursor C]]   machines (filtered: name contains
                                                  TEXT, every tag); --limit: a page of N, by name
  hangar jobs [--state S] [--limit N [--cursor C]]   jobs, newest first (a page: 100 unless --limit)
  hangar create NAME [--image busybox] [--driver qemu|nspawn|podman] [--network private|nat|host] [-p HOST:GUEST]...
                [--cpus N] [--memory MiB] [--disk GiB] [--tag T]... [--no-start]
  hangar create NAME --iso ISO|FILE|URL --disk GiB [--firmware bios|uefi]   install from an ISO: an empty disk, the ISO
                                                  in a CD-ROM drive, booted once (a file or URL joins the ISO library)
  hangar adopt NAME --ssh user@host[:port] [--key FILE]   an existing machine (a server, a cloud VM) reached over SSH:
                                                  exec, SSH console, its journal as logs, steps; the key is kept by
                                                  the server, the host key pinned; rm forgets it (never touches it)
  hangar isos [ls | add FILE|URL [--name N] | rm NAME]   the ISO library (ISO 9660 or UDF, within the size cap)
  hangar cdrom eject|insert MACHINE [ISO]         change the disc of a running VM (an ISO install's CD-ROM drive)
  hangar start|stop|restart|pause|resume NAME...  (stop: [--force] [--timeout S]); several names, or
                [--tag T] [--state S] [--driver D] for every machine that matches (one job each)
  hangar tag NAME [+TAG | -TAG]...                add or remove tags; no changes: list them
  hangar rm NAME...                               destroy machines and their disks
  hangar exec NAME [-i] [--timeout S] -- CMD ...  run a command in a machine: its output as it comes (stderr at the end), its
                                                  exit code passed through; -i: our stdin is its stdin; --timeout: seconds
                                                  (default 60)
  hangar cp SRC DEST                              copy files and directories in or out of a running machine (one side
                                                  NAME:PATH; modes kept; into an existing directory, else to that name)
  hangar open NAME [--tab console|files|...]      print the machine's page and open it in a browser (xdg-open, if any)
  hangar ansible-inventory --list | --host hangar.NAME   a dynamic Ansible inventory of your machines (JSON; SSH
                                                  through hangar ssh --stdio as ProxyCommand)
  hangar ssh NAME [-- CMD [ARGS...]]              login shell over SSH (images with sshd), or run CMD
  hangar ssh --stdio NAME                         a raw stream to the machine's sshd (OpenSSH ProxyCommand; see ssh-config)
  hangar ssh-config [--file F]                    Host hangar.NAME blocks in ~/.ssh/config (and Hangar's known_hosts), so
                                                  ssh, scp, rsync and VS Code reach your machines through Hangar
  hangar keys [ls | add FILE [--name N] | rm ID]  your SSH public keys: machines you may operate let them in
  hangar console NAME                             the serial console in this terminal (Ctrl-] leaves)
  hangar logs NAME [-n BYTES] [-f]                the console log (a container's output), -f follows it
  hangar run [-it] [--rm] [--driver D] [--network N] [--node N] IMAGE [-- CMD]   CMD in a new application container
                                                  (output and exit code pass through); -it: a shell on a tty
  hangar unit NAME                                a container as a systemd unit file for the host
  hangar probe --package NAME|FILE.deb [--check-unit U] [--check-network URL]   install in a throwaway container, check, report
  hangar checkpoint NAME [-l LABEL]               snapshot a machine (live: memory + devices + disk)
  hangar snapshots [--limit N [--cursor C]]       the snapshot tree (a page, oldest first); hangar snapshot show SNAP | rm SNAP [--cascade]
  hangar snapshot export SNAP [-o FILE]           one archive file (state, RAM, flattened disk); snapshot import FILE
  hangar restore SNAP [--machine NAME] [--no-checkpoint]   put a machine back to a snapshot
  hangar fork SNAP|NAME [-n N] [--prefix P] [--node NODE]  start N copies from a snapshot (or from a machine, now); --node: on that node
                                                  SNAP: a snapshot id, or its label when one snapshot alone has it
                                                  (several: they are listed). fork REF reads REF as a snapshot id, then
                                                  a machine name (fork now), then a label: a machine wins over a label
  hangar move NAME --to NODE                      move a machine to another node (a running VM live: the guest keeps running)
  hangar gc                                       remove unreferenced disk layers and snapshot files
  hangar diff SNAP_A SNAP_B | diff NAME [SNAP]    files added (A), removed (D), changed (M) between two snapshots, or on a
                                                  machine since SNAP (default: its last checkpoint); --path FILE: its text diff
  hangar build BASE [+ STEP ARGS]... | -f FILE.yaml|FILE.ts [--name N]   a machine from chained steps, each
                                                  result cached (e.g. debian-12 + apt nginx + exec -- nginx -v)
  hangar build --on NAME STEP ARGS [+ STEP ARGS]...   the steps applied to an existing machine (an adopted one too),
                                                  in order over its exec; never cached (it says why)
  hangar run BASE + STEP... [--keep]              build the chain, then a shell in it; removed at exit unless --keep
  hangar steps [rm KEY]                           the step cache as a tree; rm invalidates a node and below
  hangar users [add NAME --role R | role NAME R | disable|enable NAME | reset-password NAME | rm NAME]   people (admins)
  hangar limits [USER [--machines N|none|role] [--vcpus N] [--memory MiB] [--disk GiB] | USER --reset]
                                                  what you (or USER: admins) may hold and hold now; flags set USER's own
  hangar passwd                                   change your password (current and new on two stdin lines)
  hangar audit [--action A] [--actor U] [--target ID] [-n N] [--cursor C] [--jsonl]   the audit log, newest first (admins)
  hangar webhooks [ls | add URL --event E... [--secret S] | rm ID | deliveries ID | redeliver ID DELIVERY]   signed event
                                                  deliveries to other services (admins; the secret is shown once)
  hangar schedule [ls [MACHINE] | add MACHINE|--tag T --cron EXPR [--tz ZONE] --keep-last N [--keep-hourly|daily|weekly|monthly N]
                  [--backup-to T --backup-keep N] | rm ID | run ID]
                                                  snapshots on a schedule, pruned by retention (like restic forget --keep-*)
  hangar disk ls|add|attach|detach|resize|rm MACHINE [NAME] [--size GiB] [--bus virtio-blk|virtio-scsi] [--path /GUEST] [--detached]
                                                  a VM's extra disks (hot-plugged while it runs) or a container's volumes
  hangar fork-link [ls | create SNAP|--machine M [--max N] [--lifetime 2h] [--expires 1d] [--cpus N] [--memory MiB] [--label L]
                   | forks LINK | revoke LINK [--keep-forks]]
                                                  links that give each opener a private running fork (the link is shown once)
  hangar undo enable NAME --every 5m --keep 6 | disable NAME | ls NAME
                                                  a ring of recent checkpoints of a machine, the oldest pruned
  hangar undo NAME --minutes 10                   back to the newest undo point at least 10 minutes old
  hangar backups targets [ls | add NAME --dir PATH | add NAME --s3 --bucket B [--endpoint URL] [--prefix P] --access-key ID
                 --secret-file F | rm NAME]         where backups go (admins)
  hangar backups [ls TARGET | restore TARGET ID --name NEW | rm TARGET ID]   what a target holds; restore into a new machine
  hangar backup SNAPSHOT --to TARGET              back up a snapshot (layers already on the target are not sent again)
  hangar recordings ls MACHINE | markers MACHINE ID   recorded consoles; a recording's checkpoints, restores and forks (snapshot ids)
  hangar recordings share MACHINE ID [--expires 24h] | links MACHINE | revoke LINK   a read-only, expiring link to one recording
  hangar help [COMMAND]                           (or hangar COMMAND --help) one command's usage; --version

Global: --json (machine-readable output).
Environment: HANGAR_URL, HANGAR_TOKEN, HANGAR_CA, HANGAR_TLS_FINGERPRINT, HANGAR_TLS_CERT, HANGAR_TLS_KEY, HANGAR_TLS,
HANGAR_INSECURE_HTTP, HANGAR_TRUSTED_PROXIES, HANGAR_DATA, HANGAR_HOST, HANGAR_PORT, DATABASE_URL,
HANGAR_ADMIN_PASSWORD (first-run admin password).`;

/** Commands known by another name too: their help is under these. */
const ALIASES: Record<string, string[]> = {
  serve: ['up'],
  schedules: ['schedule'],
  disks: ['disk'],
  'fork-links': ['fork-link'],
  snapshot: ['snapshot', 'snapshots'],
  snapshots: ['snapshots', 'snapshot'],
};

/** What `hangar help` says of one command: its usage lines and their continuations; null when it names none. */
export function helpFor(cmd: string): string | null {
  const wanted = ALIASES[cmd] ?? [cmd];
  const names = (line: string) => (/^ {2}hangar ([a-z][a-z|-]*)/.exec(line)?.[1] ?? '').split('|');
  const blocks: string[] = [];
  let taking = false;
  for (const line of HELP.split('\n')) {
    if (line.startsWith('  hangar ')) taking = names(line).some((n) => wanted.includes(n));
    else if (!line.startsWith('   ')) taking = false;
    if (taking) blocks.push(line);
  }
  return blocks.length ? `Usage:\n${blocks.join('\n')}\n\n${HELP.slice(HELP.indexOf('Global:'))}` : null;
}
