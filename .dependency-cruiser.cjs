// The layering of src/, top to bottom: main.ts wires cli/ and apis/; apis/<api>/ (each API's
// behaviour) and cli/ (commands, config, spec, the read loop) stand side by side on connector/ (what
// an API folder fills in), then streams/ (paging, cursors, partitions), http/ (client, pace, retries,
// downloads), json/ (the byte path), protocol/ (messages, errors, output). A folder imports only
// folders below it, through their index.ts, and no module circle exists anywhere.
const LAYERS = ['protocol', 'json', 'http', 'streams', 'connector', 'apis|cli'];

/** One rule per layer: nothing in it imports a layer above it. */
const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `${layer.replace('|', '-')}-imports-only-below`,
  comment: `src/${layer}/ may import only ${LAYERS.slice(0, index).join(', ') || 'node and npm modules'}`,
  severity: 'error',
  from: { path: `^src/(${layer})/` },
  to: { path: `^src/(${LAYERS.slice(index + 1).join('|')}|main\\.ts)` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'apis-and-cli-apart',
      comment: 'the CLI is given the APIs (main.ts passes the registry); an API folder never reaches into the CLI',
      severity: 'error',
      from: { path: '^src/(apis|cli)/' },
      to: { path: '^src/(apis|cli)/', pathNot: '^src/$1/' },
    },
    {
      name: 'api-folders-apart',
      comment: "one API's folder never imports another's",
      severity: 'error',
      from: { path: '^src/apis/([^/]+)/' },
      to: { path: '^src/apis/', pathNot: ['^src/apis/$1/', '^src/apis/index\\.ts$'] },
    },
    {
      name: 'through-the-index',
      comment: 'another folder is reached through its index.ts, which says what it offers (tuning.ts loads the HTTP client itself, on first use)',
      severity: 'error',
      from: { path: '^src/([^/]+)', pathNot: '^src/connector/tuning\\.ts$' },
      to: { path: '^src/(protocol|json|http|streams|connector|cli)/(?!index\\.ts$)', pathNot: '^src/$1/' },
    },
    { name: 'no-circular', comment: 'no module imports itself through others', severity: 'error', from: {}, to: { circular: true } },
    { name: 'not-to-test', comment: 'the connector never imports its tests', severity: 'error', from: { path: '^src/' }, to: { path: '^test/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^src/json/wasm/' },
  },
};
