package fleet

import "context"

// ConnectVia is Connect with each device on its own proxy: every store's POS holds its
// WebSocket through pos and its customer display through cx, so that the store's
// devices meet on one replica only if the two proxies agree.
func ConnectVia(ctx context.Context, stores []string, pos, cx *Client) *Fleet {
	ctx, cancel := context.WithCancel(ctx)
	f := &Fleet{Stores: stores, Sockets: map[string]*Socket{}, cancel: cancel}
	for _, store := range stores {
		f.Sockets[store+"-"+POS] = pos.Hold(ctx, store+"-"+POS)
		f.Sockets[store+"-"+CX] = cx.Hold(ctx, store+"-"+CX)
	}
	return f
}
