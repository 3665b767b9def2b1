import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROSBAG2_BAGS } from '../adapters/mcap/fixtures.js';

const AR1 = fileURLToPath(new URL('../../bin/ar1.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [AR1, ...args], { encoding: 'utf8' });

describe('cli/bag: ar1 bag info', () => {
  it('a missing path: one line on stderr, exit 2, no stack trace', () => {
    const r = run('bag', 'info', '/nonexistent/bag');
    expect(r.status).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal(
      'ar1: /nonexistent/bag: no such file or directory (expected a .mcap file or a rosbag2 directory)\n',
    );
  });

  it('not a bag: one line naming the file and what was found', () => {
    const r = run('bag', 'info', fileURLToPath(new URL('../../package.json', import.meta.url)));
    expect(r.status).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(
      /^ar1: .*package\.json: not an MCAP file \(expected magic 89 4d 43 41 50 30 0d 0a, found 7b 0a/,
    );
  });

  describe('on the real bags', function () {
    it('prints ros2-bag-info-like text', () => {
      const r = run('bag', 'info', join(ROSBAG2_BAGS, 'talker'));
      expect(r.status).to.equal(0);
      const lines = r.stdout.split('\n');
      expect(lines[0]).to.equal('Files:             talker.mcap');
      expect(r.stdout).to.include('Storage id:        mcap\n');
      expect(r.stdout).to.include('Duration:          4.531096768s\n');
      expect(r.stdout).to.include('Start:             Apr  2 2020 22:23:55.112411371 UTC (1585866235.112411371)\n');
      expect(r.stdout).to.include('Messages:          20\n');
      expect(r.stdout).to.match(
        /Topic: \/topic +\| Type: std_msgs\/msg\/String +\| Count: 10 \| Serialization Format: cdr/,
      );
    });

    it('--json for machines: integer nanoseconds as strings', () => {
      const r = run('bag', 'info', '--json', join(ROSBAG2_BAGS, 'wbag'));
      expect(r.status).to.equal(0);
      const j = JSON.parse(r.stdout) as {
        message_count: number;
        files: unknown[];
        duration: { ns: string };
        start: { ns: string };
        span_source: string;
        contents: { duration: { ns: string } };
        problems: string[];
        topics: Array<{ topic: string; message_count: number }>;
      };
      expect(j.message_count).to.equal(6074);
      expect(j.files).to.have.length(5);
      // Like ros2 bag info: the bag's own metadata.yaml span (stale in this rosbag2 test bag) ...
      expect(j.span_source).to.equal('metadata.yaml');
      expect(j.duration.ns).to.equal('411');
      expect(j.start.ns).to.equal('2623');
      // ... with what the files really hold beside it, and the disagreement named.
      expect(j.contents.duration.ns).to.equal('1998');
      expect(j.problems.join(' ')).to.match(
        /metadata\.yaml says start 2623 ns, duration 411 ns; the files hold start 1000 ns, duration 1998 ns/,
      );
      expect(j.topics.find((t) => t.topic === 'AAA')!.message_count).to.equal(804);
    });
  });
});
