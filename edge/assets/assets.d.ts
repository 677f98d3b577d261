// Files of npm packages that the edge serves as they are, bundled as text (see [[rules]] in wrangler.toml).
declare module 'swagger-ui-dist/swagger-ui-bundle.js' {
  const text: string;
  export default text;
}
declare module 'swagger-ui-dist/swagger-ui.css' {
  const text: string;
  export default text;
}
