import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRosArgs } from '../../nodes/core/params/rosArgs.js';
import { loadParameters, readSchema } from '../../nodes/core/params/loadParameters.js';
import { readParamsFile } from '../../nodes/core/params/paramsFile.js';
import {
  LAUNCH_DIR,
  REPO,
  nodeArgv,
  readLaunchFile,
  resolveArgs,
  stringsIn,
  substitute,
  varsIn,
  type LaunchFile,
} from './launchFile.js';

const FILES = readdirSync(LAUNCH_DIR)
  .filter((f) => f.endsWith('.launch.yaml'))
  .sort();
const DOCS = join(REPO, 'docs', 'vehicle.md');
const WRAPPERS = ['ar1_planner', 'ar1_watchdog'];

/** Files an include pulls in, with the args it passes. */
function included(file: LaunchFile): Array<{ file: LaunchFile; args: Record<string, string> }> {
  const vars = resolveArgs(
    file,
    Object.fromEntries(file.args.filter((a) => a.default === undefined).map((a) => [a.name, `<${a.name}>`])),
  );
  return file.includes.map((inc) => {
    const path = substitute(inc.file, vars, LAUNCH_DIR);
    expect(existsSync(path), `${file.path}: include ${inc.file} → ${path} exists`).to.equal(true);
    const args = Object.fromEntries(inc.arg.map((a) => [a.name, substitute(a.value, vars, LAUNCH_DIR)]));
    return { file: readLaunchFile(path), args };
  });
}

describe('deploy: launch files', () => {
  it('the launch files exist: vehicle, HIL rig, replay into a live graph', () => {
    expect(FILES).to.include.members(['ar1.launch.yaml', 'hil.launch.yaml', 'replay_live.launch.yaml']);
  });

  for (const name of FILES) {
    describe(name, () => {
      const path = join(LAUNCH_DIR, name);
      const file = readLaunchFile(path);

      it('parses as a ROS 2 YAML launch file with arg/node/executable/include actions only', () => {
        expect(file.args.length).to.be.greaterThan(0);
      });

      it('declares every $(var …) it uses, before use in defaults', () => {
        const declared = new Set<string>();
        for (const a of file.args) {
          for (const v of varsIn(String(a.default ?? '')))
            expect(declared, `${name}: arg ${a.name} default uses ${v}`).to.include(v);
          declared.add(a.name);
        }
        const used = [...file.nodes, ...file.executables, ...file.includes].flatMap(stringsIn).flatMap(varsIn);
        for (const v of used) expect(declared, `${name}: $(var ${v}) is declared`).to.include(v);
      });

      it('gives every argument a description, and docs/vehicle.md documents it', () => {
        const docs = readFileSync(DOCS, 'utf8');
        for (const a of file.args) {
          expect(a.description, `${name}: arg ${a.name} description`).to.be.a('string').and.not.equal('');
          expect(docs, `docs/vehicle.md mentions \`${a.name}\``).to.include('`' + a.name + '`');
        }
      });

      it('starts nodes only through the installed ar1_ros wrappers', () => {
        for (const n of file.nodes) {
          expect(n.pkg).to.equal('ar1_ros');
          expect(WRAPPERS).to.include(n.exec);
          expect(existsSync(join(REPO, 'ros', 'scripts', n.exec)), `ros/scripts/${n.exec}`).to.equal(true);
          expect(readFileSync(join(REPO, 'ros', 'CMakeLists.txt'), 'utf8')).to.include(`scripts/${n.exec}`);
        }
      });

      it('passes only arguments the included file declares, and the included file exists', () => {
        for (const inc of included(file)) {
          const declared = new Set(inc.file.args.map((a) => a.name));
          for (const k of Object.keys(inc.args))
            expect(declared, `${name} passes ${k} to ${inc.file.path}`).to.include(k);
          for (const a of inc.file.args.filter((x) => x.default === undefined)) {
            expect(inc.args, `${name} gives ${inc.file.path} its required ${a.name}`).to.have.property(a.name);
          }
        }
      });

      it('runs only ros2 CLI tools as plain executables', () => {
        for (const e of file.executables) expect(e.cmd.split(/\s+/)[0]).to.equal('ros2');
      });
    });
  }

  describe('ar1.launch.yaml: the command lines launch_ros builds', () => {
    const file = readLaunchFile(join(LAUNCH_DIR, 'ar1.launch.yaml'));
    const vars = resolveArgs(file, {
      namespace: '/car1',
      use_sim_time: 'true',
      log_level: 'debug',
      bundle: '/models/x',
      odometry_topic: '/vehicle/odom',
    });

    it('starts the watchdog and the planner, named without namespace pitfalls', () => {
      expect(file.nodes.map((n) => n.name).sort()).to.deep.equal(['ar1_planner', 'ar1_watchdog']);
      for (const n of file.nodes) {
        // Parameters come only from files (/**: keys) and -p: no launch_ros dict parameters, whose temporary
        // file is keyed by the fully-qualified name and silently ignored by rclnodejs under a namespace.
        expect(
          n.param.every((p) => p.from !== undefined && p.name === undefined),
          n.name,
        ).to.equal(true);
      }
    });

    for (const nodeName of ['ar1_planner', 'ar1_watchdog']) {
      it(`${nodeName}: the project's --ros-args parser accepts it and sees name, namespace, params, remaps`, () => {
        const node = file.nodes.find((n) => n.name === nodeName)!;
        const argv = nodeArgv(node, vars, LAUNCH_DIR);
        const ros = parseRosArgs(argv.slice(1));
        expect(ros.nodeName).to.equal(nodeName);
        expect(ros.namespace).to.equal('/car1');
        expect(ros.logLevel).to.equal('debug');
        expect(ros.params).to.deep.include({ name: 'use_sim_time', value: true });
        const kind = nodeName.replace('ar1_', '');
        expect(ros.paramsFiles).to.deep.equal([join(REPO, 'config', `ar1_${kind}.yaml`)]);
        expect(ros.remaps.get('/localization/odometry')).to.equal('/vehicle/odom');
        if (kind === 'planner') expect(ros.rest).to.deep.equal(['--bundle', '/models/x']);
        else expect(ros.rest).to.deep.equal([]);
      });
    }

    it('ar1_watchdog: the vehicle command topic is remappable, ar1_planner never publishes it', () => {
      const wd = file.nodes.find((n) => n.name === 'ar1_watchdog')!;
      const pl = file.nodes.find((n) => n.name === 'ar1_planner')!;
      const r = parseRosArgs(
        nodeArgv(wd, resolveArgs(file, { vehicle_command_topic: '/dbw/cmd' }), LAUNCH_DIR).slice(1),
      );
      expect(r.remaps.get('/vehicle/unicycle_command')).to.equal('/dbw/cmd');
      expect(pl.remap.map((x) => x.from)).to.not.include('/vehicle/unicycle_command');
    });
  });

  describe('replay_live.launch.yaml and hil.launch.yaml run the stack on sim time', () => {
    for (const name of ['replay_live.launch.yaml', 'hil.launch.yaml']) {
      it(`${name} includes ar1.launch.yaml with use_sim_time:=true`, () => {
        const file = readLaunchFile(join(LAUNCH_DIR, name));
        const [inc] = included(file);
        expect(inc?.file.path).to.equal(join(LAUNCH_DIR, 'ar1.launch.yaml'));
        expect(inc?.args['use_sim_time']).to.equal('true');
      });
    }

    it('replay_live plays the bag with --clock and only the sensor inputs', () => {
      const file = readLaunchFile(join(LAUNCH_DIR, 'replay_live.launch.yaml'));
      const vars = resolveArgs(file, { bag: '/data/drive' });
      const [play] = file.executables;
      const cmd = substitute(play!.cmd, vars, LAUNCH_DIR).split(/\s+/);
      expect(cmd.slice(0, 4)).to.deep.equal(['ros2', 'bag', 'play', '/data/drive']);
      expect(cmd[cmd.indexOf('--clock') + 1]).to.match(/^\d+$/);
      const topics = cmd.slice(cmd.indexOf('--topics') + 1);
      expect(topics).to.include('/localization/odometry');
      expect(topics.filter((t) => t.startsWith('/sensors/camera/'))).to.have.length(8);
      expect(topics.some((t) => t.startsWith('/ar1/') || t.startsWith('/vehicle/'))).to.equal(false);
      expect(file.args.find((a) => a.name === 'bag')?.default, 'bag has no default: it must be given').to.equal(
        undefined,
      );
    });

    it('hil records the timing topics (on by default)', () => {
      const file = readLaunchFile(join(LAUNCH_DIR, 'hil.launch.yaml'));
      const vars = resolveArgs(file);
      const rec = file.executables.find((e) => e.cmd.startsWith('ros2 bag record'))!;
      expect(substitute(rec.if ?? 'true', vars, LAUNCH_DIR)).to.equal('true');
      const cmd = substitute(rec.cmd, vars, LAUNCH_DIR);
      for (const t of ['/clock', '/ar1/timing', '/ar1/safety_state', '/diagnostics', '/vehicle/unicycle_command']) {
        expect(cmd.split(/\s+/)).to.include(t);
      }
    });
  });

  describe('parameter files referenced by the launch files load through nodes/core/params', () => {
    const file = readLaunchFile(join(LAUNCH_DIR, 'ar1.launch.yaml'));
    const vars = resolveArgs(file);
    for (const node of file.nodes) {
      const paramsPath = substitute(node.param[0]!.from!, vars, LAUNCH_DIR);
      const schemaPath = paramsPath.replace(/\.yaml$/, '.schema.json');
      const title = `${node.name}: ${paramsPath.slice(REPO.length + 1)} validates against ${schemaPath.slice(REPO.length + 1)}`;
      it(title, function () {
        const missing = [paramsPath, schemaPath].filter((p) => !existsSync(p));
        if (missing.length) {
          console.log(`      (skipped: ${missing.map((p) => p.slice(REPO.length + 1)).join(', ')} not written yet)`);
          this.skip();
        }
        const source = readParamsFile(paramsPath, node.name);
        const params = loadParameters<Record<string, unknown>>(node.name, readSchema(schemaPath), {
          sources: [source],
        });
        expect(params).to.be.an('object');
        expect(
          Object.keys(source.values).length,
          'the file sets parameters under /** or the node name',
        ).to.be.greaterThan(0);
      });
    }
  });
});
