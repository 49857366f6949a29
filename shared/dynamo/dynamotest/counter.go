package dynamotest

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/dynamo"
)

// Counter wraps the store's client to count what each operation costs: the
// requests it makes and the capacity units DynamoDB reports for them. It asks
// every request for ReturnConsumedCapacity TOTAL.
type Counter struct {
	API dynamo.API

	mu       sync.Mutex
	requests map[string]int
	read     float64
	write    float64
}

var _ dynamo.API = (*Counter)(nil)

// Cost is what a stretch of work cost.
type Cost struct {
	Requests map[string]int // by operation name
	RCU, WCU float64
}

// Total returns the number of requests of every kind.
func (c Cost) Total() int {
	n := 0
	for _, v := range c.Requests {
		n += v
	}
	return n
}

// Reset forgets what was counted.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests, c.read, c.write = nil, 0, 0
}

// Cost returns what was counted since the last Reset.
func (c *Counter) Cost() Cost {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Cost{Requests: map[string]int{}, RCU: c.read, WCU: c.write}
	for k, v := range c.requests {
		out.Requests[k] = v
	}
	return out
}

// Requests returns how many requests were made since the last Reset.
func (c *Counter) Requests() int { return c.Cost().Total() }

func (c *Counter) add(op string, caps ...types.ConsumedCapacity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.requests == nil {
		c.requests = map[string]int{}
	}
	c.requests[op]++
	for _, cc := range caps {
		switch {
		case cc.ReadCapacityUnits != nil || cc.WriteCapacityUnits != nil:
			if cc.ReadCapacityUnits != nil {
				c.read += *cc.ReadCapacityUnits
			}
			if cc.WriteCapacityUnits != nil {
				c.write += *cc.WriteCapacityUnits
			}
		case cc.CapacityUnits != nil && (op == "GetItem" || op == "Query"):
			c.read += *cc.CapacityUnits
		case cc.CapacityUnits != nil:
			c.write += *cc.CapacityUnits
		}
	}
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

// GetItem implements dynamo.API.
func (c *Counter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.GetItem(ctx, in, opts...)
	if out != nil {
		c.add("GetItem", one(out.ConsumedCapacity)...)
	} else {
		c.add("GetItem")
	}
	return out, err
}

// PutItem implements dynamo.API.
func (c *Counter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.PutItem(ctx, in, opts...)
	if out != nil {
		c.add("PutItem", one(out.ConsumedCapacity)...)
	} else {
		c.add("PutItem")
	}
	return out, err
}

// UpdateItem implements dynamo.API.
func (c *Counter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.UpdateItem(ctx, in, opts...)
	if out != nil {
		c.add("UpdateItem", one(out.ConsumedCapacity)...)
	} else {
		c.add("UpdateItem")
	}
	return out, err
}

// DeleteItem implements dynamo.API.
func (c *Counter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.DeleteItem(ctx, in, opts...)
	if out != nil {
		c.add("DeleteItem", one(out.ConsumedCapacity)...)
	} else {
		c.add("DeleteItem")
	}
	return out, err
}

// Query implements dynamo.API.
func (c *Counter) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.Query(ctx, in, opts...)
	if out != nil {
		c.add("Query", one(out.ConsumedCapacity)...)
	} else {
		c.add("Query")
	}
	return out, err
}

// TransactWriteItems implements dynamo.API.
func (c *Counter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.TransactWriteItems(ctx, in, opts...)
	if out != nil {
		c.add("TransactWriteItems", out.ConsumedCapacity...)
	} else {
		c.add("TransactWriteItems")
	}
	return out, err
}
