import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './launchFile.js';

const ROS = join(REPO, 'ros');
const cmake = () => readFileSync(join(ROS, 'CMakeLists.txt'), 'utf8');

describe('deploy: the ar1_ros colcon package (ros/)', () => {
  it('package.xml names ar1_ros, builds with ament_cmake and depends on ar1_msgs', () => {
    const xml = readFileSync(join(ROS, 'package.xml'), 'utf8');
    expect(xml).to.match(/<name>ar1_ros<\/name>/);
    expect(xml).to.match(/<build_type>ament_cmake<\/build_type>/);
    expect(xml).to.match(/<depend>ar1_msgs<\/depend>/);
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    expect(xml).to.include(`<version>${version}</version>`);
  });

  it('CMakeLists.txt installs the node suite, launch files and config into share/ar1_ros, all of which exist', () => {
    const text = cmake();
    expect(text).to.match(/project\(ar1_ros\b/);
    expect(text).to.match(/ament_package\(\)/);
    const paths = [...text.matchAll(/"\$\{AR1_ROOT\}\/([^"]+)"/g)].map((m) => m[1]!);
    expect(paths).to.include.members(['package.json', 'package-lock.json', 'bin', 'nodes', 'config', 'launch', 'docs']);
    for (const p of paths) expect(existsSync(join(REPO, p)), p).to.equal(true);
    expect(text).to.match(
      /install\(PROGRAMS scripts\/ar1_planner scripts\/ar1_watchdog DESTINATION lib\/\$\{PROJECT_NAME\}\)/,
    );
  });

  it('the package dir is not the repository root (a root package.xml would hide msg/ from colcon)', () => {
    expect(existsSync(join(REPO, 'package.xml'))).to.equal(false);
    expect(existsSync(join(REPO, 'msg', 'package.xml'))).to.equal(true);
  });

  for (const f of ['ar1_planner', 'ar1_watchdog', 'ar1_node.bash', 'prepare_node_modules.sh']) {
    it(`ros/scripts/${f} passes bash -n`, () => {
      const r = spawnSync('bash', ['-n', join(ROS, 'scripts', f)], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
    });
  }

  describe('wrapper scripts', () => {
    let tmp: string;
    beforeEach(() => {
      tmp = mkdtempSync(join(tmpdir(), 'ar1-wrap-'));
    });
    afterEach(() => rmSync(tmp, { recursive: true, force: true }));

    /** An install tree like colcon's: lib/ar1_ros/<wrapper> (symlinked, as --symlink-install does) and share/ar1_ros/bin/ar1.js. */
    function fakeInstall(): string {
      const prefix = join(tmp, 'install');
      mkdirSync(join(prefix, 'lib', 'ar1_ros'), { recursive: true });
      mkdirSync(join(prefix, 'share', 'ar1_ros', 'bin'), { recursive: true });
      for (const f of ['ar1_planner', 'ar1_watchdog', 'ar1_node.bash'])
        symlinkSync(join(ROS, 'scripts', f), join(prefix, 'lib', 'ar1_ros', f));
      // Stands in for bin/ar1.js: prints the argv it got.
      writeFileSync(
        join(prefix, 'share', 'ar1_ros', 'bin', 'ar1.js'),
        'console.log(JSON.stringify(process.argv.slice(1)));\n',
      );
      return prefix;
    }

    for (const kind of ['planner', 'watchdog']) {
      it(`ar1_${kind} execs node <share/ar1_ros>/bin/ar1.js node ${kind} with all arguments, in order`, () => {
        const prefix = fakeInstall();
        const env = { ...process.env };
        delete env['AR1_ROS_HOME'];
        const out = execFileSync(
          join(prefix, 'lib', 'ar1_ros', `ar1_${kind}`),
          ['--bundle', '/m', '--ros-args', '-r', `__node:=ar1_${kind}`, '-p', 'use_sim_time:=true'],
          { encoding: 'utf8', env },
        );
        const argv = JSON.parse(out) as string[];
        expect(argv).to.deep.equal([
          join(prefix, 'share', 'ar1_ros', 'bin', 'ar1.js'),
          'node',
          kind,
          '--bundle',
          '/m',
          '--ros-args',
          '-r',
          `__node:=ar1_${kind}`,
          '-p',
          'use_sim_time:=true',
        ]);
      });
    }

    it("AR1_ROS_HOME (the launch files' ar1_home) wins over the install tree", () => {
      const prefix = fakeInstall();
      const home = join(tmp, 'checkout');
      mkdirSync(join(home, 'bin'), { recursive: true });
      writeFileSync(join(home, 'bin', 'ar1.js'), 'console.log("checkout");\n');
      const out = execFileSync(join(prefix, 'lib', 'ar1_ros', 'ar1_planner'), [], {
        encoding: 'utf8',
        env: { ...process.env, AR1_ROS_HOME: home },
      });
      expect(out.trim()).to.equal('checkout');
    });

    it('without a bin/ar1.js anywhere it fails with exit 2 and says where it looked', () => {
      const dir = join(tmp, 'lib', 'ar1_ros');
      mkdirSync(dir, { recursive: true });
      for (const f of ['ar1_watchdog', 'ar1_node.bash'])
        writeFileSync(join(dir, f), readFileSync(join(ROS, 'scripts', f)));
      chmodSync(join(dir, 'ar1_watchdog'), 0o755);
      const env = { ...process.env };
      delete env['AR1_ROS_HOME'];
      const r = spawnSync(join(dir, 'ar1_watchdog'), [], { encoding: 'utf8', env });
      expect(r.status).to.equal(2);
      expect(r.stderr).to.match(/ar1_watchdog: cannot find bin\/ar1\.js; looked in: .*share\/ar1_ros.*AR1_ROS_HOME/);
    });
  });

  it('prepare_node_modules.sh refuses to run without ROS sourced, naming what is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar1-prep-'));
    try {
      writeFileSync(join(dir, 'package-lock.json'), '{}');
      const env = { ...process.env };
      delete env['ROS_DISTRO'];
      delete env['AMENT_PREFIX_PATH'];
      const r = spawnSync('bash', [join(ROS, 'scripts', 'prepare_node_modules.sh'), dir], { encoding: 'utf8', env });
      expect(r.status).to.equal(2);
      expect(r.stderr).to.match(/ROS 2 is not sourced \(ROS_DISTRO\/AMENT_PREFIX_PATH empty\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
