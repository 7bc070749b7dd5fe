import { builder } from './builder.js';

type ConnectionNode = Parameters<typeof builder.connectionObject>[0]['type'];

/**
 * What the prisma plugin hands a connection type's fields: the page and its count, a function for
 * `prismaConnection` (called only when selected), a number for `relatedConnection` (loaded with the parent).
 */
interface CountedConnection {
  totalCount?: number | (() => number | Promise<number>);
}

/**
 * A Relay connection type named by the schema convention, `<PluralNode>Connection` with
 * `<PluralNode>Edge`, shared by every field that lists the node (`Query.devices`, `Site.devices`).
 * Pass it as the second argument of `t.prismaConnection` / `t.relatedConnection`; `totalCount`
 * is computed only when selected, as the plugin does for the connections it creates itself.
 */
export function namedConnection(node: ConnectionNode, plural: string) {
  return builder.connectionObject(
    {
      type: node,
      name: `${plural}Connection`,
      fields: (t) => ({
        totalCount: t.int({
          description: 'All matching nodes, not only this page',
          extensions: { pothosPrismaTotalCount: true },
          resolve: async (connection) => {
            const { totalCount } = connection as CountedConnection;
            return (typeof totalCount === 'function' ? await totalCount() : totalCount) ?? 0;
          },
        }),
      }),
    },
    { name: `${plural}Edge` },
  );
}
