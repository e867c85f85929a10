/** See service-node-args.mjs. */
export declare const SERVICE_NODE_ARGS: readonly string[];
