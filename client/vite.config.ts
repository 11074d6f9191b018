import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const serverUrl = 'http://localhost:3000';

/** A test for the modules of these npm packages (scoped ones too). */
const packages = (...names: string[]) => new RegExp(`[\\\\/]node_modules[\\\\/](${names.join('|')})[\\\\/]`);

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      output: {
        // the libraries in chunks of their own, each under Vite's 500 kB (they change less often than
        // the app, so a browser keeps them across releases); a group takes its modules' dependencies
        // too, so the groups of a library's dependencies come before it (the first that matches takes a module)
        codeSplitting: {
          groups: [
            { name: 'react', test: packages('react', 'react-dom', 'scheduler') },
            { name: 'zod', test: packages('zod') },
            {
              name: 'charts',
              test: packages(
                'd3-[a-z]+',
                'victory-vendor',
                '@reduxjs',
                'react-redux',
                'redux',
                'reselect',
                'immer',
                'es-toolkit',
                'decimal\\.js-light',
                'eventemitter3',
              ),
            },
            {
              name: 'markdown',
              test: packages(
                'react-markdown',
                '[a-z-]*mdast[a-z-]*',
                '[a-z-]*hast[a-z-]*',
                'micromark[a-z-]*',
                'unified',
                'unist-[a-z-]+',
                'vfile[a-z-]*',
                'remark-[a-z-]+',
                'property-information',
                'space-separated-tokens',
                'comma-separated-tokens',
                'decode-named-character-reference',
                'character-entities[a-z-]*',
                'html-url-attributes',
                'estree-util-is-identifier-name',
                'style-to-js',
                'style-to-object',
                'inline-style-parser',
                'trim-lines',
                'trough',
                'bail',
                'devlop',
                'extend',
                'is-plain-obj',
                'ccount',
                'zwitch',
                'longest-streak',
                '@ungap',
              ),
            },
            { name: 'recharts', test: packages('recharts') },
            { name: 'vendor', test: /[\\/]node_modules[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': serverUrl,
      '/healthz': serverUrl,
      '/socket.io': { target: serverUrl, ws: true },
    },
  },
});
