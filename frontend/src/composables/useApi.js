// useApi.js - GET JSON from the server's REST API, read through one of
// api.js's from* functions.  Errors become one message the UI shows (and a
// rejected promise for the caller), never a silent empty table.  A reply
// that breaks the contract (api.js's ContractError) is shown until the page
// is reloaded and logged to the console: the dashboard and the server in
// use were built from different sources.
import { ref } from 'vue'
import { t } from '../i18n.js'
import { selectedHost } from './useHost.js'
import { ContractError } from '../api.js'

export const apiError = ref('')
export const contractError = ref('')
const logged = new Set()

// e from a REST reply or an event: a ContractError is shown and logged
// (each message once), anything else is thrown on.
export function reportContract(e) {
  if (!(e instanceof ContractError)) throw e
  if (!contractError.value) contractError.value = t('err.contract', { msg: e.message })
  if (!logged.has(e.message)) {
    logged.add(e.message)
    console.error(`memprobe: ${e.message}`)
  }
}

// Every endpoint but /api/hosts takes ?host=: the host chosen in the header,
// unless `params` names one (an OOM kill's forensics is of the kill's host).
// `read` (an api.js from* function) turns the body into what the view uses.
export async function getJson(path, params, read) {
  const all = path === 'hosts' ? { ...params } : { host: selectedHost.value, ...params }
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
  const body = await res.json()
  try {
    return read(body)
  } catch (e) {
    reportContract(e)
    throw e
  }
}
