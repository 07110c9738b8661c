/** Where the GraphQL API answers, over HTTP and graphql-ws alike. */
export const GRAPHQL_PATH = '/graphql';
