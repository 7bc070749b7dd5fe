/** A minimal keep-alive GraphQL-over-HTTP client and the introspection the bench relies on. */
import http from 'node:http';

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export interface GraphQLClient {
  request<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  close(): void;
}

/** One agent per client: `maxSockets` bounds the connections the way a load generator would. */
export function graphqlClient(port: number, token: string, maxSockets = 64, path = '/graphql'): GraphQLClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    request<T>(query: string, variables?: Record<string, unknown>) {
      const body = JSON.stringify({ query, variables });
      return new Promise<GraphQLResponse<T>>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path,
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              accept: 'application/graphql-response+json, application/json',
              'content-length': Buffer.byteLength(body),
              authorization: `Bearer ${token}`,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              try {
                resolve(JSON.parse(text) as GraphQLResponse<T>);
              } catch {
                reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
              }
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

export interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}

export interface IntrospectedField {
  name: string;
  type: TypeRef;
  args: Array<{ name: string; type: TypeRef }>;
}

export interface IntrospectedType {
  name: string;
  kind: string;
  fields: IntrospectedField[] | null;
  inputFields: Array<{ name: string; type: TypeRef }> | null;
  enumValues: Array<{ name: string }> | null;
  possibleTypes: Array<{ name: string }> | null;
}

const TYPE_REF = 'kind name ofType { kind name ofType { kind name ofType { kind name } } }';
const INTROSPECTION = /* GraphQL */ `
  query BenchIntrospection {
    __schema {
      queryType { name }
      mutationType { name }
      subscriptionType { name }
      types {
        name kind
        fields { name type { ${TYPE_REF} } args { name type { ${TYPE_REF} } } }
        inputFields { name type { ${TYPE_REF} } }
        enumValues { name }
        possibleTypes { name }
      }
    }
  }
`;

export interface Schema {
  query: string;
  mutation: string | null;
  subscription: string | null;
  types: Map<string, IntrospectedType>;
  /** A field of a named type, or undefined. */
  field(typeName: string, fieldName: string): IntrospectedField | undefined;
}

interface IntrospectionResult {
  __schema: {
    queryType: { name: string };
    mutationType: { name: string } | null;
    subscriptionType: { name: string } | null;
    types: IntrospectedType[];
  };
}

export async function introspect(client: GraphQLClient): Promise<Schema> {
  const response = await client.request<IntrospectionResult>(INTROSPECTION);
  if (!response.data) throw new Error(`introspection failed: ${JSON.stringify(response.errors)}`);
  const types = new Map(response.data.__schema.types.map((type) => [type.name, type]));
  return {
    query: response.data.__schema.queryType.name,
    mutation: response.data.__schema.mutationType?.name ?? null,
    subscription: response.data.__schema.subscriptionType?.name ?? null,
    types,
    field: (typeName, fieldName) => types.get(typeName)?.fields?.find((field) => field.name === fieldName),
  };
}

/** The named type under NON_NULL/LIST wrappers. */
export function namedType(ref: TypeRef): string {
  let current: TypeRef | null = ref;
  while (current && !current.name) current = current.ofType;
  if (!current?.name) throw new Error('unnamed type reference');
  return current.name;
}

/** The type as written in a variable definition, e.g. `UpdateInput!`. */
export function typeLiteral(ref: TypeRef): string {
  if (ref.kind === 'NON_NULL') return `${typeLiteral(ref.ofType!)}!`;
  if (ref.kind === 'LIST') return `[${typeLiteral(ref.ofType!)}]`;
  return ref.name!;
}
