// useApi.js - GET JSON from the server's REST API.  Errors become one
// message the UI shows (and a rejected promise for the caller), never a
// silent empty table.
import { ref } from 'vue'
import { t } from '../i18n.js'
import { selectedHost } from './useHost.js'

export const apiError = ref('')

// Every endpoint but /api/hosts takes ?host=: the host chosen in the header.
export async function getJson(path, params) {
  const all = path === 'hosts' ? { ...params } : { ...params, host: selectedHost.value }
  const qs =
    '?' +
    new URLSearchParams(
      Object.entries(all).filter(([, v]) => v !== undefined && v !== null && v !== '')
    ).toString()
  let res
  try {
    res = await fetch(`api/${path}${qs === '?' ? '' : qs}`, { headers: { Accept: 'application/json' } })
  } catch (e) {
    apiError.value = t('err.api', { msg: e.message })
    throw e
  }
  if (res.status === 401) {
    // The session cookie expired or the token changed: only a new token
    // URL helps, so say that rather than the status.
    apiError.value = t('err.auth')
    throw new Error('401 Unauthorized')
  }
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`
    try {
      const body = await res.json()
      if (body && body.error) msg += `: ${body.error}`
    } catch {
      /* body was not JSON: the status line says enough */
    }
    apiError.value = t('err.api', { msg: `${path} ${msg}` })
    throw new Error(msg)
  }
  apiError.value = ''
  return res.json()
}

export function useApi() {
  return { getJson, apiError }
}
