/**
 * A private copy of the compiled tree (dist/) for the processes this run starts. Others work
 * in the same checkout while the benchmark runs, and `npm run build` starts with
 * `rm -rf dist`: a helper or a Hookline started minutes into the run would find its modules
 * gone. The copy lives in the run's temporary directory, next to a package.json that keeps
 * it ESM and a link to the project's node_modules, so it resolves exactly as dist/ does.
 */
import { access, cp, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BuildSnapshot {
  /** A compiled module by its path under dist/, e.g. 'src/main.js'. */
  module(relativePath: string): URL;
}

// This file is dist/bench/build-snapshot.js.
const distDirectory = fileURLToPath(new URL('..', import.meta.url));
const projectDirectory = path.dirname(path.resolve(distDirectory));

/** The modules every run starts; checked so that a copy caught mid-rebuild fails now, clearly. */
const requiredModules = ['src/main.js', 'bench/receiver.js', 'bench/baseline-worker.js', 'bench/limit-worker.js'];

export async function snapshotBuild(workDirectory: string): Promise<BuildSnapshot> {
  const root = path.join(workDirectory, 'build');
  const rebuilding = () => new Error('dist/ is incomplete: the project is being rebuilt (npm run build) right now. Run the benchmark again.');
  await cp(distDirectory, path.join(root, 'dist'), { recursive: true, filter: (source) => !source.endsWith('.map') }).catch(() => {
    throw rebuilding();
  });
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  await symlink(path.join(projectDirectory, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  const module = (relativePath: string) => pathToFileURL(path.join(root, 'dist', relativePath));
  for (const required of requiredModules) {
    await access(module(required)).catch(() => {
      throw rebuilding();
    });
  }
  return { module };
}
