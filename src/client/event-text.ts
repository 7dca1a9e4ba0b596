import type { SessionEvent } from '../protocol/events';

/** An event in a few words, as `agent events` prints it and the MCP server's text says it. */
export function describeEvent(e: SessionEvent): string {
  switch (e.type) {
    case 'spawned':
      return `${e.restart ? 'restarted' : 'spawned'}: ${e.command.join(' ')} in ${e.workdir}`;
    case 'state':
      return `state ${e.state} (${e.reason})`;
    case 'task':
      return `task ${e.task} ${e.state}`;
    case 'viewer':
      return `viewer ${e.action}${e.readOnly ? ' read-only' : ''} (${e.viewers} now)`;
    case 'resize':
      return `resized to ${e.cols}x${e.rows}`;
    case 'notification':
      return `notification (${e.source}): ${e.text}`;
    case 'exited':
      return `exited: ${e.reason}`;
  }
}
