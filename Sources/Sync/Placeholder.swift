import LRUCache
