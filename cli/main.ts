/**
 * `codebuild-run`: the command line. It only dispatches: each command lives in its own module,
 * loaded when asked for, so `codebuild-run local run` does not load the server.
 */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
}

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { summary: string; run: Command }> = {
  demo: {
    summary: 'the whole flow on this machine, no AWS account: push, webhook, build, statuses',
    run: async (argv, io) => (await import('./demo.js')).runDemo(argv, io),
  },
  serve: {
    summary: 'the webhook server: verify deliveries, start builds, post commit statuses',
    run: async (argv, io) => (await import('../server/main.js')).runServe(argv, io),
  },
  explain: {
    summary: 'show how one webhook delivery is understood and what it would build',
    run: async (argv, io) => (await import('./explain.js')).runExplain(argv, io),
  },
  'local run': {
    summary: 'run one buildspec on this machine with CodeBuild semantics',
    run: async (argv, io) => (await import('./local-run.js')).runLocalRun(argv, io),
  },
  'local serve': {
    summary: 'serve the local CodeBuild (CodeBuild, Logs, Secrets Manager APIs) on 127.0.0.1',
    run: async (argv, io) => (await import('./local-serve.js')).runLocalServe(argv, io),
  },
};

export const USAGE = `Usage: codebuild-run <command> [options]

Runs AWS CodeBuild builds for pushes from any git host, and reports the result where the code
lives. Run a command with --help for its options.

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(14)}${summary}`)
  .join('\n')}
`;

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(USAGE);
    return first === undefined ? 2 : 0;
  }
  const twoWords = second === undefined ? undefined : `${first} ${second}`;
  const name = twoWords !== undefined && twoWords in COMMANDS ? twoWords : first;
  const command = COMMANDS[name];
  if (!command) {
    const hint = Object.keys(COMMANDS).filter((c) => c.startsWith(first));
    io.stderr.write(
      `codebuild-run: unknown command "${name}"${hint.length ? `; did you mean ${hint.map((c) => `"${c}"`).join(' or ')}?` : ''}\n\n${USAGE}`,
    );
    return 2;
  }
  return command.run(argv.slice(name.split(' ').length), io);
}
