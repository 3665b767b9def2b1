import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { LAUNCH_DIR, REPO } from './launchFile.js';

const DOCKER = join(REPO, 'docker');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const IMAGE = `ar1-ros:${VERSION}`;

/** Dockerfile instructions with line continuations joined. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

describe('deploy: docker/', () => {
  const dockerfile = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
  const ins = instructions(dockerfile);

  it('builds on CUDA 12 + cuDNN 9 on Ubuntu 24.04 and installs ROS 2 Jazzy and Node.js 20/22', () => {
    const image = ins.find((i) => i.op === 'ARG' && i.args.startsWith('CUDA_IMAGE='))!.args.split('=')[1]!;
    expect(image).to.match(/^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-ubuntu24\.04$/);
    expect(dockerfile).to.match(/ARG ROS_DISTRO=jazzy/);
    expect(dockerfile).to.match(/ARG NODE_MAJOR=(20|22)\b/);
    expect(dockerfile).to.include('ros-${ROS_DISTRO}-ros-base');
  });

  it('every COPY source from the build context exists and is not excluded by .dockerignore', () => {
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const copies = ins.filter((i) => i.op === 'COPY' && !i.args.includes('--from='));
    expect(copies.length).to.be.greaterThan(5);
    for (const c of copies) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        expect(existsSync(join(REPO, src)), `COPY ${src}`).to.equal(true);
        expect(
          ignored.filter((g) => src === g || src.startsWith(g + '/')),
          `COPY ${src} vs .dockerignore`,
        ).to.deep.equal([]);
      }
    }
  });

  it('builds ar1_msgs and ar1_ros with colcon, with onnxruntime-node CUDA 12 libraries', () => {
    expect(dockerfile).to.match(/colcon build --base-paths src/);
    expect(dockerfile).to.match(/ARG ONNXRUNTIME_NODE_INSTALL=cuda12/);
    expect(dockerfile).to.match(/ONNXRUNTIME_NODE_INSTALL=\$\{ONNXRUNTIME_NODE_INSTALL\} colcon build/);
    // prepare_node_modules.sh, run by the ar1_ros install step, does the ORT install and rclnodejs preparation.
    const prep = readFileSync(join(REPO, 'ros', 'scripts', 'prepare_node_modules.sh'), 'utf8');
    expect(prep).to.include('node node_modules/onnxruntime-node/script/install.js');
    expect(prep).to.include('prepare_rclnodejs.sh');
    const rcl = readFileSync(join(REPO, 'ros', 'scripts', 'prepare_rclnodejs.sh'), 'utf8');
    expect(rcl).to.include('scripts/generate_messages.cjs');
    expect(rcl).to.include('rebuild -j');
    expect(rcl, "never rclnodejs's own rebuild (npx rimraf, header download)").to.not.match(
      /npm (run )?rebuild|install\.cjs/,
    );
    for (const f of [
      'onnxruntime-node/script/install.js',
      'rclnodejs/scripts/generate_messages.cjs',
      'rclnodejs/binding.gyp',
    ]) {
      expect(
        existsSync(join(REPO, 'node_modules', f)),
        `node_modules/${f} (the installed versions still ship it)`,
      ).to.equal(true);
    }
  });

  it('runs as a non-root user with the entrypoint and the bundle as a volume', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    const users = instructions(runtime)
      .filter((i) => i.op === 'USER')
      .map((i) => i.args);
    expect(users).to.deep.equal(['ar1']);
    expect(runtime).to.match(/ENTRYPOINT \["\/opt\/ar1\/entrypoint\.sh"\]/);
    expect(runtime).to.match(/VOLUME \["\/models\/ar1"\]/);
    expect(runtime).to.match(/CMD \["launch", "ar1\.launch\.yaml"\]/);
  });

  for (const f of ['entrypoint.sh', 'ar1']) {
    it(`docker/${f} passes bash -n`, () => {
      const r = spawnSync('bash', ['-n', join(DOCKER, f)], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
    });
  }

  describe('entrypoint.sh', () => {
    let tmp: string;
    let env: NodeJS.ProcessEnv;
    beforeEach(() => {
      tmp = mkdtempSync(join(tmpdir(), 'ar1-entry-'));
      writeFileSync(join(tmp, 'ros.bash'), 'export SOURCED_ROS=1\n');
      writeFileSync(join(tmp, 'overlay.bash'), 'export SOURCED_OVERLAY=1\n');
      mkdirSync(join(tmp, 'bundle'));
      writeFileSync(join(tmp, 'bundle', 'manifest.json'), '{}');
      // A fake ros2 on PATH that prints how it was called.
      mkdirSync(join(tmp, 'bin'));
      writeFileSync(
        join(tmp, 'bin', 'ros2'),
        '#!/usr/bin/env bash\necho "ros2 $* ros=$SOURCED_ROS overlay=$SOURCED_OVERLAY"\n',
        { mode: 0o755 },
      );
      env = {
        ...process.env,
        ROS_SETUP: join(tmp, 'ros.bash'),
        AR1_OVERLAY_SETUP: join(tmp, 'overlay.bash'),
        AR1_BUNDLE: join(tmp, 'bundle'),
        PATH: `${join(tmp, 'bin')}:${process.env['PATH']}`,
      };
    });
    afterEach(() => rmSync(tmp, { recursive: true, force: true }));
    const run = (...args: string[]) => spawnSync(join(DOCKER, 'entrypoint.sh'), args, { encoding: 'utf8', env });

    it('with no arguments sources ROS and the overlay and launches ar1.launch.yaml with the mounted bundle', () => {
      const r = run();
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.trim()).to.equal(
        `ros2 launch ar1_ros ar1.launch.yaml bundle:=${join(tmp, 'bundle')} ros=1 overlay=1`,
      );
    });

    it('"launch FILE ARGS" keeps an explicit bundle:= and passes the rest through', () => {
      const r = run('launch', 'hil.launch.yaml', `bundle:=${join(tmp, 'bundle')}`, 'record:=false');
      expect(r.stdout.trim()).to.equal(
        `ros2 launch ar1_ros hil.launch.yaml bundle:=${join(tmp, 'bundle')} record:=false ros=1 overlay=1`,
      );
    });

    it('refuses to launch without a mounted bundle, saying how to mount it', () => {
      env['AR1_BUNDLE'] = join(tmp, 'nothing');
      const r = run();
      expect(r.status).to.equal(2);
      expect(r.stderr).to.match(/model bundle .*nothing is missing or empty: mount it \(docker run -v/);
    });

    it('runs any other command as given, after sourcing', () => {
      const r = run('bash', '-c', 'echo $SOURCED_ROS$SOURCED_OVERLAY');
      expect(r.stdout.trim()).to.equal('11');
    });

    it('fails clearly when the ROS setup file is missing', () => {
      env['ROS_SETUP'] = join(tmp, 'none.bash');
      const r = run();
      expect(r.status).to.equal(2);
      expect(r.stderr).to.match(/none\.bash: no such file/);
    });
  });

  describe('compose.hil.yaml', () => {
    const compose = parse(readFileSync(join(DOCKER, 'compose.hil.yaml'), 'utf8'), { merge: true }) as {
      services: Record<
        string,
        { image?: string; command?: string[]; volumes?: string[]; profiles?: string[]; deploy?: unknown }
      >;
    };

    it('runs the stack (hil.launch.yaml, GPU, bundle mounted read-only), a bag player and foxglove_bridge on the project image', () => {
      expect(Object.keys(compose.services).sort()).to.deep.equal(['ar1', 'bag', 'foxglove']);
      for (const s of Object.values(compose.services)) expect(s.image).to.equal(IMAGE);
      const ar1 = compose.services['ar1']!;
      expect(ar1.command?.slice(0, 2)).to.deep.equal(['launch', 'hil.launch.yaml']);
      expect(existsSync(join(LAUNCH_DIR, ar1.command![1]!))).to.equal(true);
      expect(ar1.volumes?.some((v) => v.endsWith(':/models/ar1:ro'))).to.equal(true);
      expect(JSON.stringify(ar1.deploy)).to.include('"gpu"');
      expect(compose.services['bag']!.command?.slice(0, 3)).to.deep.equal(['ros2', 'bag', 'play']);
      expect(compose.services['bag']!.command).to.include('--clock');
      expect(compose.services['bag']!.profiles).to.deep.equal(['bag']);
      expect(compose.services['foxglove']!.command?.slice(0, 3)).to.deep.equal(['ros2', 'launch', 'foxglove_bridge']);
    });
  });

  describe('k8s/replay-job.yaml', () => {
    const docs = parseAllDocuments(readFileSync(join(DOCKER, 'k8s', 'replay-job.yaml'), 'utf8')).map(
      (d) =>
        d.toJS() as {
          kind: string;
          metadata: { name: string };
          spec: {
            completionMode?: string;
            completions?: number;
            suspend?: boolean;
            template: { spec: { containers: Array<{ image: string; args: string[]; env?: Array<{ name: string }> }> } };
          };
        },
    );

    it('an Indexed Job runs `ar1 replay --bag … --shard $(JOB_COMPLETION_INDEX)/N --out …` with N = completions', () => {
      const job = docs.find((d) => d.metadata.name === 'ar1-replay')!;
      expect(job.kind).to.equal('Job');
      expect(job.spec.completionMode).to.equal('Indexed');
      const c = job.spec.template.spec.containers[0]!;
      expect(c.image).to.equal(IMAGE);
      expect(c.args.slice(0, 2)).to.deep.equal(['ar1', 'replay']);
      for (const flag of ['--bag-list', '--shard', '--batch', '--out']) expect(c.args).to.include(flag);
      // every flag the job passes exists in the real CLI
      const help = spawnSync(
        process.execPath,
        [fileURLToPath(new URL('../../bin/ar1.js', import.meta.url)), 'replay', '--help'],
        { encoding: 'utf8' },
      ).stdout;
      for (const flag of c.args.filter((a) => a.startsWith('--'))) expect(help, flag).to.contain(flag + ' ');
      expect(c.args[c.args.indexOf('--shard') + 1]).to.equal(`$(JOB_COMPLETION_INDEX)/${job.spec.completions}`);
      expect(c.args[c.args.indexOf('--out') + 1]).to.include('$(JOB_COMPLETION_INDEX)');
      // $(VAR) in args expands only from variables declared in the container's env.
      expect(c.env?.map((e) => e.name)).to.include('JOB_COMPLETION_INDEX');
    });

    it('a suspended merge Job runs `ar1 report merge` over every shard directory', () => {
      const job = docs.find((d) => d.metadata.name === 'ar1-replay')!;
      const merge = docs.find((d) => d.metadata.name === 'ar1-replay-merge')!;
      expect(merge.spec.suspend).to.equal(true);
      const c = merge.spec.template.spec.containers[0]!;
      expect(c.image).to.equal(IMAGE);
      expect(c.args.slice(0, 3)).to.deep.equal(['ar1', 'report', 'merge']);
      const outArg = job.spec.template.spec.containers[0]!.args;
      const outPattern = outArg[outArg.indexOf('--out') + 1]!;
      const expected = Array.from({ length: job.spec.completions! }, (_, i) =>
        outPattern.replace('$(JOB_COMPLETION_INDEX)', String(i)),
      );
      expect(c.args.slice(3, -2)).to.deep.equal(expected);
      expect(c.args.slice(-2)).to.deep.equal(['--out', '/data/out/merged.json']);
    });

    it('the image has an `ar1` command for these args', () => {
      expect(readFileSync(join(DOCKER, 'Dockerfile'), 'utf8')).to.match(/COPY docker\/ar1 \/usr\/local\/bin\/ar1/);
    });
  });
});
