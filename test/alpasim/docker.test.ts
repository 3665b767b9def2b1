import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const DOCKER = fileURLToPath(new URL('../../docker/', import.meta.url));

describe('docker: the alpasim-driver entry', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'ar1-entry-alpasim-'));
    writeFileSync(join(tmp, 'ros.bash'), 'export SOURCED_ROS=1\n');
    writeFileSync(join(tmp, 'overlay.bash'), 'export SOURCED_OVERLAY=1\n');
    mkdirSync(join(tmp, 'bundle'));
    writeFileSync(join(tmp, 'bundle', 'manifest.yaml'), 'x');
    mkdirSync(join(tmp, 'bin'));
    writeFileSync(
      join(tmp, 'bin', 'ar1'),
      '#!/usr/bin/env bash\necho "ar1 $* ros=$SOURCED_ROS overlay=$SOURCED_OVERLAY"\n',
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

  it('entrypoint "alpasim-driver OPTIONS" runs ar1 alpasim-driver on 0.0.0.0:6789 with the mounted bundle, options after', () => {
    const r = run('alpasim-driver', '--record', '/data/alpasim', '--latency', '100');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal(
      `ar1 alpasim-driver --bundle ${join(tmp, 'bundle')} --listen 0.0.0.0:6789 --record /data/alpasim --latency 100 ros=1 overlay=1`,
    );
  });

  it('refuses to start without a mounted bundle', () => {
    env['AR1_BUNDLE'] = join(tmp, 'none');
    const r = run('alpasim-driver');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/model bundle .*none is missing or empty: mount it/);
  });

  it('the image exposes 6789 and compose.alpasim.yaml serves it with a GPU, the bundle read-only and --record', () => {
    expect(readFileSync(join(DOCKER, 'Dockerfile'), 'utf8')).to.match(/^EXPOSE 6789$/m);
    const compose = parse(readFileSync(join(DOCKER, 'compose.alpasim.yaml'), 'utf8')) as {
      services: Record<
        string,
        { image: string; command: string[]; ports: string[]; volumes: string[]; deploy: unknown }
      >;
    };
    const s = compose.services['alpasim-driver']!;
    const version = (JSON.parse(readFileSync(join(DOCKER, '..', 'package.json'), 'utf8')) as { version: string })
      .version;
    expect(s.image).to.equal(`ar1-ros:${version}`);
    expect(s.command[0]).to.equal('alpasim-driver');
    expect(s.command).to.include('--record');
    expect(s.ports).to.deep.equal(['${AR1_ALPASIM_PORT:-6789}:6789']);
    expect(s.volumes.some((v) => v.endsWith(':/models/ar1:ro'))).to.equal(true);
    expect(JSON.stringify(s.deploy)).to.include('"gpu"');
  });
});
