// V8's code cache for the connector and its dependencies (node:module, Node 22.1 and later). Every
// command is a new process; without the cache it compiles axios and the connector again each time,
// about 7 ms of the 134 ms a read took to its first record (docs/development.md). The image ships
// the cache already built (NODE_COMPILE_CACHE in the Dockerfile); elsewhere it goes to the system's
// temp directory. A cache that cannot be read or written costs nothing but the time it would save.
import * as nodeModule from 'node:module';

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
