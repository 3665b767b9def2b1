/**
 * A node renamed with `-r __node:=NAME` does not get a params file's section keyed by its usual name (ROS
 * semantics: a section applies to "/**" or to the node's own name). The shipped files are keyed by node name, so a
 * renamed node would silently run without them; this says so, once per file.
 */
import { readParamsFile } from './paramsFile.js';

/**
 * One warning per params file that has a section for `usualName` and none for the renamed node `nodeName` (which
 * then gets only the file's "/**" part, if any).
 */
export function renamedNodeWarnings(
  paramsFiles: readonly string[],
  nodeName: string,
  usualName: string,
  namespace = '/',
): string[] {
  if (nodeName === usualName) return [];
  const out: string[] = [];
  for (const file of paramsFiles) {
    const text = (name: string) => JSON.stringify(readParamsFile(file, name, namespace).values);
    const applied = text(nodeName);
    const wildcardOnly = text(''); // what a node with no section of its own gets
    if (applied !== wildcardOnly || text(usualName) === applied) continue;
    out.push(
      `${file}: its ${usualName} section is not applied to this node, renamed ${nodeName} (-r __node:=${nodeName}), ` +
        `as in ROS; key a copy "${nodeName}:" to apply it`,
    );
  }
  return out;
}
