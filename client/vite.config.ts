import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const serverUrl = 'http://localhost:3000';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/api': serverUrl,
      '/healthz': serverUrl,
      '/socket.io': { target: serverUrl, ws: true },
    },
  },
});
