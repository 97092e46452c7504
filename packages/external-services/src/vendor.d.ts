// The Africa's Talking SDK ships no types: providers/africastalking.ts describes the surface it uses.
declare module "africastalking" {
  const sdk: unknown;
  export default sdk;
}
declare module "africastalking/lib/common.js" {
  const common: Record<string, unknown>;
  export default common;
}
// The CommonJS build of axios, the one the Africa's Talking SDK require()s (one module, one set of defaults).
declare module "axios/dist/node/axios.cjs" {
  const axios: unknown;
  export default axios;
}
