import { expect } from 'chai';
import sinon from 'sinon';
import { InProcessBus } from '../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../nodes/adapters/inprocess/inProcessNode.js';
import { SteppingScheduler } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import type { RunnableRosNode } from '../../nodes/cli/command.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDemoBundle } from '../../nodes/syntheticBundles/demoBundle.js';
import { tempFiles } from '../core/params/fixtures.js';

// Loaded with import() so the CLI, the subcommands it imports lazily and this test share one module instance of
// each file (a static import here is compiled to require(), which would give UserError a second class).
const { main } = await import('../../nodes/cli/main.js');
const { packageVersion } = await import('../../nodes/cli/command.js');
const { runNode } = await import('../../nodes/cli/nodeCommand.js');
const { UserError } = await import('../../nodes/core/errors.js');
const { OnnxEngine } = await import('../../nodes/adapters/onnxruntime/index.js');

/**
 * Polls until cond() holds, 30 s at most: start-up imports modules that a fresh clone compiles on first use, so a
 * count of event-loop turns is not enough. Nothing asserts how long it took.
 */
async function until(cond: () => boolean): Promise<void> {
  for (const end = performance.now() + 30_000; !cond() && performance.now() < end;)
    await new Promise((r) => setTimeout(r, 5));
  expect(cond(), 'condition never held').to.equal(true);
}

const WATCHDOG_YAML = new URL('../../config/ar1_watchdog.yaml', import.meta.url).pathname;

/** Runs the CLI in-process; returns exit code and what it wrote. */
async function ar1(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = sinon.stub(process.stdout, 'write').callsFake((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  const err = sinon.stub(process.stderr, 'write').callsFake((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  const saved = { AMENT_PREFIX_PATH: process.env['AMENT_PREFIX_PATH'], ROS_DISTRO: process.env['ROS_DISTRO'] };
  delete process.env['AMENT_PREFIX_PATH'];
  delete process.env['ROS_DISTRO'];
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.restore();
    err.restore();
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  }
}

describe('cli: ar1', () => {
  it('--help lists the node command and exits 0', async () => {
    const r = await ar1('--help');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/Usage: ar1/);
    expect(r.stdout).to.match(/node \[options\] <which> \[ros-args\.\.\.\]/);
  });

  it('--version prints the package version', async () => {
    const r = await ar1('--version');
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.equal(packageVersion());
    expect(packageVersion()).to.match(/^\d+\.\d+\.\d+/);
  });

  it('node --help shows --bundle, --log-level and the ROS arguments', async () => {
    const r = await ar1('node', '--help');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/--bundle <dir>/);
    expect(r.stdout).to.match(/--log-level <level>/);
    expect(r.stdout).to.match(/--ros-args/);
  });
});

describe('cli: ar1 node', () => {
  it('without ROS 2 sourced: one line saying how to set it up, exit code 3', async () => {
    const r = await ar1('node', 'watchdog', '--ros-args', '--params-file', WATCHDOG_YAML);
    expect(r.code).to.equal(3);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /^ar1: node watchdog: ROS 2 is not sourced \(AMENT_PREFIX_PATH and ROS_DISTRO are not set\)/,
    );
    expect(lines[0]).to.match(/source \/opt\/ros\/jazzy\/setup\.bash/);
    expect(lines[0]).to.match(/ros\/scripts\/prepare_rclnodejs\.sh \./);
  });

  it('a missing params file: one line naming it, exit code 2 (checked before ROS)', async () => {
    const r = await ar1('node', 'watchdog', '--ros-args', '--params-file', '/no/such/watchdog.yaml');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal('ar1: /no/such/watchdog.yaml: cannot read parameter file (no such file)\n');
  });

  it('an invalid parameter: one line naming file, key, expected and actual', async () => {
    const f = tempFiles({ 'w.yaml': '/**:\n  ros__parameters:\n    control_rate_hz: "fast"\n' });
    const r = await ar1('node', 'watchdog', '--ros-args', '--params-file', f['w.yaml']!);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(
      new RegExp(`^ar1: ${f['w.yaml']}: control_rate_hz: expected number, got string "fast"\\n$`),
    );
  });

  it('a typo in -p is an unknown parameter, blamed on the command line', async () => {
    const r = await ar1('node', 'watchdog', '--ros-args', '-p', 'control_rate:=20');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^ar1: command line \(-p\): control_rate: unknown parameter for ar1_watchdog/);
  });

  it('rejects an unknown node, --bundle for the watchdog, a bad --log-level and an unknown ROS flag', async () => {
    expect((await ar1('node', 'planer')).stderr).to.match(/^ar1: node: expected planner or watchdog, got "planer"$/m);
    expect((await ar1('node', 'watchdog', '--bundle', '/m')).stderr).to.match(/--bundle: applies to the planner only/);
    expect((await ar1('node', 'watchdog', '--log-level', 'loud')).stderr).to.match(
      /--log-level: expected one of debug, info, warn, error, got "loud"/,
    );
    expect((await ar1('node', 'watchdog', '--ros-args', '--param-file', 'x')).stderr).to.match(
      /unknown argument "--param-file"/,
    );
  });
});

describe('cli: runNode wiring (watchdog on an in-process node standing in for rclnodejs)', () => {
  it('loads params through the node loader, declares them, starts the node, and stops it on shutdown', async () => {
    const scheduler = new SteppingScheduler(1_000);
    const bus = new InProcessBus(scheduler);
    const published: string[] = [];
    bus.published$.subscribe((m) => published.push(m.topic));
    let node!: InProcessNode & RunnableRosNode;
    const hooks: Array<() => Promise<void> | void> = [];
    const declared: Array<Record<string, unknown>> = [];
    const createNode = sinon.spy(async (o: { name: string; argv: string[] }) => {
      const inner = new InProcessNode(bus, { name: o.name });
      node = Object.assign(inner, {
        declareParameters: (v: Readonly<Record<string, unknown>>) => {
          declared.push({ ...v });
          return [];
        },
        onShutdown: (h: () => Promise<void> | void) => {
          hooks.push(h);
        },
        addExitCheck: () => undefined,
      });
      return node;
    });
    const done = runNode(
      'watchdog',
      { logLevel: 'warn' },
      ['--ros-args', '--params-file', WATCHDOG_YAML, '-p', 'control_rate_hz:=25.0'],
      { createNode },
    );
    await until(() => hooks.length === 1);
    expect(createNode.firstCall.args[0].name).to.equal('ar1_watchdog');
    expect(createNode.firstCall.args[0].argv).to.deep.equal([
      '--ros-args',
      '--params-file',
      WATCHDOG_YAML,
      '-p',
      'control_rate_hz:=25.0',
      '--ros-args',
      '--log-level',
      'warn',
    ]);
    expect(declared[0]).to.include({ control_rate_hz: 25 });
    expect(hooks).to.have.length(1);
    await scheduler.advanceTo(1_200);
    const before = published.filter((t) => t === '/vehicle/unicycle_command').length;
    expect(before).to.be.greaterThan(0); // running at 25 Hz on the node's scheduler
    for (const h of hooks) await h(); // the rclnodejs adapter runs hooks before it stops publishing
    await node.shutdown();
    const after = published.filter((t) => t === '/vehicle/unicycle_command').length;
    expect(after, 'stop() publishes a final command').to.equal(before + 1);
    await done; // runNode returns once shutdown$ completes
  });

  it('--bundle overrides bundle_dir (after -p) for the planner; the engine is created from it', async () => {
    const declared: Array<Record<string, unknown>> = [];
    const createNode = async (o: { name: string }) =>
      Object.assign(new InProcessNode(new InProcessBus(new SteppingScheduler()), { name: o.name }), {
        declareParameters: (v: Readonly<Record<string, unknown>>) => {
          declared.push({ ...v });
          return [];
        },
        onShutdown: () => undefined,
        addExitCheck: () => undefined,
      });
    let e: unknown;
    try {
      await runNode('planner', { bundle: '/no/such/bundle' }, ['--ros-args', '-p', 'bundle_dir:=/other'], {
        createNode,
      });
    } catch (err) {
      e = err;
    }
    expect(declared[0]).to.include({ bundle_dir: '/no/such/bundle' });
    expect((e as Error).message).to.match(/\/no\/such\/bundle/);
  });

  it('planner: its exit check says "loading" while the bundle loads; a shutdown during the load starts nothing and closes the engine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar1-node-load-'));
    try {
      makeDemoBundle(join(dir, 'bundle'));
      const checks: Array<() => string | undefined> = [];
      const hooks: Array<() => Promise<void> | void> = [];
      let node!: InProcessNode;
      const createNode = async (o: { name: string }) => {
        node = new InProcessNode(new InProcessBus(new SteppingScheduler()), { name: o.name });
        return Object.assign(node, {
          declareParameters: () => [],
          onShutdown: (h: () => Promise<void> | void) => {
            hooks.push(h);
          },
          addExitCheck: (c: () => string | undefined) => {
            checks.push(c);
          },
        });
      };
      const done = runNode('planner', { bundle: join(dir, 'bundle'), logLevel: 'error' }, ['--ros-args'], {
        createNode,
      });
      const close = sinon.spy(OnnxEngine.prototype, 'close');
      try {
        await until(() => checks.length === 1);
        expect(checks[0]!(), 'while the worker loads').to.equal('the inference worker is loading the bundle');
        await node.shutdown(); // the signal, during the load
        await done;
        expect(close.calledOnce, 'the engine loaded after the signal is closed').to.equal(true);
        expect(checks[0]!(), 'after: no worker in native code').to.equal(undefined);
        expect(hooks, 'no planner was started').to.have.length(0);
      } finally {
        close.restore();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a start-up error after the node exists (a manifest that does not match its pin) leaves the ROS graph before it is reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar1-node-pin-'));
    try {
      makeDemoBundle(join(dir, 'bundle'));
      let node!: InProcessNode;
      let shutdowns = 0;
      const createNode = async (o: { name: string }) => {
        node = new InProcessNode(new InProcessBus(new SteppingScheduler()), { name: o.name });
        const shutdown = node.shutdown.bind(node);
        return Object.assign(node, {
          declareParameters: () => [],
          onShutdown: () => undefined,
          addExitCheck: () => undefined,
          shutdown: () => {
            shutdowns++;
            return shutdown();
          },
        });
      };
      let e: unknown;
      try {
        await runNode(
          'planner',
          { bundle: join(dir, 'bundle') },
          ['--ros-args', '-p', `manifest_sha256:=${'ab'.repeat(32)}`],
          { createNode },
        );
      } catch (err) {
        e = err;
      }
      expect(e).to.be.instanceOf(UserError);
      expect((e as InstanceType<typeof UserError>).exitCode).to.equal(2);
      expect((e as Error).message).to.match(/does not match manifest_sha256 (ab){32}/);
      expect(shutdowns, 'the node left the graph').to.equal(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a UserError from runNode carries the exit code', async () => {
    let e: unknown;
    try {
      await runNode('watchdog', {}, [], { env: {} });
    } catch (err) {
      e = err;
    }
    expect(e).to.be.instanceOf(UserError);
    expect((e as InstanceType<typeof UserError>).exitCode).to.equal(3);
  });
});
