/**
 * Node opens its inspector on 127.0.0.1:9229 when a process gets SIGUSR1 (a stray
 * `kill -USR1`, `node inspect -p PID`), and any local user who connects to it can run code
 * as this process's user. Our processes keep it closed (every command, the standby, a
 * supervisor started on its own): with a listener, the signal does nothing. The listener is
 * Function.prototype so that it holds nothing of a bundle, and Node does not count it as
 * keeping the process alive.
 */
export function keepInspectorClosed(): void {
  if (process.listenerCount('SIGUSR1') === 0) process.on('SIGUSR1', Function.prototype as () => void);
}
