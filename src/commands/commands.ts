/** Chat commands described as data; the parser and `!help` are generated from this. */
export interface CommandSpec {
  name: CommandName;
  /** Positional arguments, in order. A trailing `rest` argument takes `key=value` pairs. */
  args: { name: string; description: string; rest?: boolean; optional?: boolean }[];
  description: string;
}

export type CommandName =
  | 'run'
  | 'status'
  | 'cancel'
  | 'mesh'
  | 'trust'
  | 'autotranscribe'
  | 'help';

export const PREFIX = '!';

export const COMMANDS: CommandSpec[] = [
  {
    name: 'run',
    args: [
      { name: 'engine', description: 'an engine the mesh runs, e.g. wordcount' },
      {
        name: 'cid',
        description:
          "the input's CID (from `meshbot add <file>`); left out in a reply to a file posted here",
      },
      {
        name: 'key=value',
        description: 'engine parameters; replicas=k runs it on k nodes that must agree',
        rest: true,
      },
    ],
    description:
      'run an engine on an input in the mesh, or on the file (or voice message) it replies to; the result comes as a reply',
  },
  {
    name: 'status',
    args: [{ name: 'task', description: 'a task id, or reply in the thread of a !run' }],
    description: "a task's state, attempts, node and timings",
  },
  {
    name: 'cancel',
    args: [{ name: 'task', description: 'a task id, or reply in the thread of a !run' }],
    description: 'withdraw a task that has not finished (yours, or any if you are the owner)',
  },
  { name: 'mesh', args: [], description: 'the nodes, the coordinator, their load and the queue' },
  {
    name: 'trust',
    args: [
      {
        name: 'release @node',
        description: "let a quarantined node back in (its owner, or this node's)",
        optional: true,
      },
    ],
    description: "each node's record with the Verifier: results checked, agreed, quarantined",
  },
  {
    name: 'autotranscribe',
    args: [{ name: 'on|off', description: 'whether every voice message here is transcribed' }],
    description: 'transcribe every voice message posted in this room (or stop)',
  },
  { name: 'help', args: [], description: 'show the commands and the engines' },
];

export function usage(spec: CommandSpec): string {
  const args = spec.args.map((a) =>
    a.rest ? `[${a.name} ...]` : a.optional ? `[${a.name}]` : `<${a.name}>`,
  );
  return [`${PREFIX}${spec.name}`, ...args].join(' ');
}

/** What wrong usage gets: why, then the command's usage. */
export function wrongUsage(spec: CommandSpec, why: string): string {
  return `${why}. Usage: ${usage(spec)}`;
}

/** Wrong usage of `!run` found after parsing (a reply to a message without a file). */
export function runUsage(why: string): string {
  return wrongUsage(COMMANDS.find((c) => c.name === 'run') as CommandSpec, why);
}

export function helpText(engines: { name: string; description: string }[]): string {
  const lines = ['meshbot commands:'];
  for (const c of COMMANDS) lines.push(`  ${usage(c)} — ${c.description}`);
  if (engines.length > 0) {
    lines.push('engines in this mesh:');
    for (const e of engines) lines.push(`  ${e.name} — ${e.description}`);
  }
  return lines.join('\n');
}
