// useSort.js - a sortable table's state: the column sorted by and the
// direction.  Choosing the column again flips it; a new column starts
// descending (largest first), or ascending for the text columns.
import { ref } from 'vue'

export function useSort(initialKey, textKeys) {
  const key = ref(initialKey)
  const desc = ref(!textKeys.includes(initialKey))
  function sortBy(k) {
    if (key.value === k) desc.value = !desc.value
    else {
      key.value = k
      desc.value = !textKeys.includes(k)
    }
  }
  return { key, desc, sortBy }
}
