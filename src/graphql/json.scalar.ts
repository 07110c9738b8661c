export { default as GraphQLJSON } from 'graphql-type-json';
