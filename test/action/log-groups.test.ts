import { describe, expect, it } from 'vitest';
import { PhaseLogRenderer } from '../../action/log-groups.js';

const agent = (text: string) => `[Container] 2026/01/01 12:00:00.123000 ${text}`;
const lines = (...messages: string[]) => messages.map((message) => ({ timestamp: 0, message }));

function render(batches: string[][], options: { title?: string } = {}) {
  let out = '';
  const renderer = new PhaseLogRenderer((text) => (out += text), { token: 'T0K', ...options });
  for (const batch of batches) renderer.push(lines(...batch));
  renderer.close();
  return { out, renderer };
}

/** The job log as the runner shows it: command lines taken out, groups as `[NAME]` / `[end]`. */
function shown(out: string): string[] {
  return out
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '::stop-commands::T0K' && l !== '::T0K::')
    .map((l) =>
      l.startsWith('::group::') ? `[${l.slice(9)}]` : l === '::endgroup::' ? '[end]' : l,
    );
}

describe('PhaseLogRenderer', () => {
  it('puts each phase in a group of its own, across batches of lines', () => {
    const { out } = render([
      [agent('Running on CodeBuild On-demand'), agent('Phase is DOWNLOAD_SOURCE')],
      [
        agent('Phase complete: DOWNLOAD_SOURCE State: SUCCEEDED'),
        agent('Phase context status code:  Message: '),
      ],
      [agent('Entering phase BUILD'), agent('Running command make'), 'compiling'],
      ['linking', agent('Phase complete: BUILD State: SUCCEEDED')],
      [agent('Entering phase POST_BUILD'), agent('Phase complete: POST_BUILD State: SUCCEEDED')],
      [agent('Phase context status code:  Message: '), agent('Expanding base directory path: .')],
      [agent('Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED')],
    ]);
    expect(shown(out)).toEqual([
      '[PROVISIONING]',
      agent('Running on CodeBuild On-demand'),
      '[end]',
      '[DOWNLOAD_SOURCE]',
      agent('Phase is DOWNLOAD_SOURCE'),
      agent('Phase complete: DOWNLOAD_SOURCE State: SUCCEEDED'),
      agent('Phase context status code:  Message: '),
      '[end]',
      '[BUILD]',
      agent('Entering phase BUILD'),
      agent('Running command make'),
      'compiling',
      'linking',
      agent('Phase complete: BUILD State: SUCCEEDED'),
      '[end]',
      '[POST_BUILD]',
      agent('Entering phase POST_BUILD'),
      agent('Phase complete: POST_BUILD State: SUCCEEDED'),
      agent('Phase context status code:  Message: '),
      '[end]',
      // CodeBuild announces no UPLOAD_ARTIFACTS: what follows POST_BUILD's end is the upload.
      '[UPLOAD_ARTIFACTS]',
      agent('Expanding base directory path: .'),
      agent('Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED'),
      '[end]',
    ]);
  });

  it("passes the build's output as data: workflow commands in it are never live", () => {
    const hostile = ['::add-mask::x', '::set-output name=a::b', '::endgroup::', '  ::error::boom'];
    const { out } = render([[agent('Entering phase BUILD'), ...hostile]]);
    // Every hostile line sits between a stop-commands and the matching resume.
    for (const line of hostile) {
      const at = out.indexOf(`\n${line}\n`);
      expect(at).toBeGreaterThan(0);
      const stop = out.lastIndexOf('::stop-commands::T0K', at);
      const resume = out.lastIndexOf('::T0K::', at);
      expect(stop).toBeGreaterThan(resume);
      expect(out.indexOf('::T0K::', at)).toBeGreaterThan(at);
    }
    // And group commands of its own are issued only while commands are live.
    const live: string[] = [];
    let commandsOn = true;
    for (const line of out.split('\n')) {
      if (line === '::stop-commands::T0K') commandsOn = false;
      else if (line === '::T0K::') commandsOn = true;
      else if (commandsOn && line.startsWith('::')) live.push(line);
    }
    expect(live).toEqual(['::group::BUILD', '::endgroup::']);
  });

  it('uses a random token per run', () => {
    const a: string[] = [];
    const b: string[] = [];
    new PhaseLogRenderer((t) => a.push(t)).push(lines('x'));
    new PhaseLogRenderer((t) => b.push(t)).push(lines('x'));
    const token = (text: string) => /::stop-commands::(\w+)/.exec(text)?.[1];
    expect(token(a.join(''))).toMatch(/^[0-9a-f]{32}$/);
    expect(token(a.join(''))).not.toBe(token(b.join('')));
  });

  it('keeps the last 40 lines of each phase for the failure excerpt, and the phase statuses', () => {
    const build = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`);
    const { renderer } = render([
      [agent('Entering phase BUILD'), ...build, agent('Phase complete: BUILD State: FAILED')],
    ]);
    const last = renderer.lastLines('BUILD');
    expect(last).toHaveLength(40);
    expect(last[0]).toBe('line 12');
    expect(last.at(-1)).toBe(agent('Phase complete: BUILD State: FAILED'));
    expect(renderer.phaseStatus('BUILD')).toBe('FAILED');
  });

  it('writes an excerpt after the groups, as data', () => {
    let out = '';
    const renderer = new PhaseLogRenderer((t) => (out += t), { token: 'T0K' });
    renderer.push(lines(agent('Entering phase BUILD'), '::warning::x'));
    renderer.writeExcerpt('Last lines of the BUILD phase:', renderer.lastLines('BUILD'));
    expect(out.slice(out.indexOf('::endgroup::'))).toBe(
      `::endgroup::\nLast lines of the BUILD phase:\n::stop-commands::T0K\n${agent('Entering phase BUILD')}\n::warning::x\n::T0K::\n`,
    );
  });

  it('with a title, puts every line in one group (a batch member)', () => {
    const { out } = render(
      [[agent('Entering phase BUILD'), 'x', agent('Entering phase POST_BUILD')]],
      {
        title: 'linux: SUCCEEDED',
      },
    );
    expect(shown(out)).toEqual([
      '[linux: SUCCEEDED]',
      agent('Entering phase BUILD'),
      'x',
      agent('Entering phase POST_BUILD'),
      '[end]',
    ]);
  });

  it('splits multi-line events and drops carriage returns', () => {
    const { out } = render([['a\r\nb']]);
    expect(shown(out)).toEqual(['[PROVISIONING]', 'a', 'b', '[end]']);
  });
});
