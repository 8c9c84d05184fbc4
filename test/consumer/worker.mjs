// Forwards every request unchanged (method, path, query, headers, body) to the
// sandbox Worker through the `SANDBOX` service binding.
export default {
  async fetch(request, env) {
    return env.SANDBOX.fetch(request);
  },
};
