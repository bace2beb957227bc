// vite.config.js - builds the dashboard into frontend/dist (served by
// memprobe-server).  `npm run dev` proxies /api to a running server on
// MEMPROBE_URL so the UI can be worked on without rebuilding.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 900 },
  server: {
    proxy: { '/api': process.env.MEMPROBE_URL || 'http://127.0.0.1:8080' }
  }
})
