// Inference worker entry: the main process runs TypeScript through tsx, a worker thread needs its own loader.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
